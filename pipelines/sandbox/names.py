"""Word lists the generator draws plausible names and descriptions from."""

from __future__ import annotations

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella",
    "William", "Mia", "Benjamin", "Charlotte", "Lucas", "Amelia", "Henry", "Harper",
    "Alexander", "Evelyn", "Daniel", "Abigail", "Michael", "Emily", "Mateo", "Ella",
    "Sebastian", "Elizabeth", "Jack", "Camila", "Owen", "Luna", "Samuel", "Sofia", "Wyatt",
    "Avery", "Julian", "Mila", "Levi", "Aria", "David", "Scarlett", "Joseph", "Penelope",
    "Carter", "Layla", "Gabriel", "Chloe", "Isaac", "Victoria", "Anthony", "Madison",
    "Priya", "Wei", "Fatima", "Diego", "Aisha", "Kenji", "Ingrid", "Tomasz", "Nadia",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
    "Roberts", "Okafor", "Kowalski", "Tanaka", "Haddad", "Lindqvist", "Dubois", "Moreau",
    "Fischer", "Rossi", "Novak", "O'Brien", "MacLeod", "Chen", "Patel", "Singh",
)  # fmt: skip
COMPANY_WORDS = (
    "Acme", "Northwind", "Bluewater", "Summit", "Granite", "Harbor", "Pinecrest",
    "Redwood", "Silverline", "Keystone", "Lakeshore", "Ironbridge", "Maple", "Cedar",
    "Beacon", "Frontier", "Horizon", "Meridian", "Orchard", "Riverside", "Sterling",
    "Union", "Vanguard", "Westfield", "Crescent", "Juniper", "Atlas", "Cobalt", "Evergreen",
)  # fmt: skip
COMPANY_KINDS = (
    "Holdings", "Logistics", "Construction", "Foods", "Realty", "Capital", "Labs",
    "Manufacturing", "Health", "Media", "Energy", "Software", "Partners", "Retail",
)  # fmt: skip
COMPANY_SUFFIXES = ("LLC", "Inc.", "Ltd.", "LLP", "Corp.", "Co.")
PREFIXES = ("Mr.", "Ms.", "Mrs.", "Dr.", None, None, None, None)
TITLES = ("CEO", "CFO", "General Counsel", "Owner", "Director", "Controller", None, None)

PRACTICE_AREAS = (
    ("Corporate", "business_formation_and_compliance", "CORP"),
    ("Civil Litigation", "civil_litigation", "LIT"),
    ("Family Law", "family", "FAM"),
    ("Real Estate", "real_estate", "RE"),
    ("Employment", "employment_and_labor", "EMP"),
    ("Wills and Estates", "wills_and_estates", "EST"),
    ("Intellectual Property", "intellectual_property", "IP"),
    ("Immigration", "immigration", "IMM"),
    ("Criminal Defense", "criminal", "CRIM"),
    ("Tax", "tax", "TAX"),
    ("Personal Injury", "personal_injury", "PI"),
    ("Bankruptcy", "bankruptcy", "BK"),
)
MATTER_TOPICS = {
    "CORP": ("Shareholder agreement", "Series A financing", "Annual compliance", "Asset purchase"),
    "LIT": ("Breach of contract claim", "Commercial dispute", "Insurance coverage suit"),
    "FAM": ("Divorce proceedings", "Custody arrangement", "Prenuptial agreement"),
    "RE": ("Commercial lease review", "Property acquisition", "Title dispute"),
    "EMP": ("Wrongful dismissal claim", "Employment contracts", "Workplace investigation"),
    "EST": ("Estate plan", "Probate administration", "Trust restructuring"),
    "IP": ("Trademark registration", "Patent prosecution", "Licensing agreement"),
    "IMM": ("Work visa application", "Permanent residence", "Citizenship application"),
    "CRIM": ("DUI defense", "Fraud investigation", "Appeal of conviction"),
    "TAX": ("Tax audit defense", "Cross-border tax planning", "Sales tax review"),
    "PI": ("Motor vehicle accident", "Slip and fall claim", "Product injury claim"),
    "BK": ("Chapter 11 reorganization", "Creditor claim", "Debt restructuring"),
}
TIME_NOTES = (
    "Draft and revise agreement", "Telephone conference with client", "Review correspondence",
    "Legal research", "Prepare for hearing", "Attend hearing", "Draft motion",
    "Review discovery documents", "Meeting with opposing counsel", "Prepare memorandum",
    "Email exchange with client", "Revise pleadings", "Negotiate settlement terms",
    "File documents with court", "Review and sign off on filings",
)  # fmt: skip
EXPENSE_NOTES = (
    "Court filing fee", "Courier", "Photocopies", "Expert witness fee", "Travel: mileage",
    "Deposition transcript", "Process server", "Title search", "Registry fee",
)  # fmt: skip

# ----- the whole firm: reference data and casework -----------------------------------

TEAMS = ("Litigation team", "Corporate team", "Private client team", "Intake")
MATTER_STAGES = ("Intake", "Investigation", "Active", "Negotiation", "Closing")
TASK_TYPES = (  # (name, deleted)
    ("Court deadline", False), ("Filing", False), ("Research", False),
    ("Client follow-up", False), ("Document review", False), ("Billing", False),
    ("Legacy docketing", True),
)  # fmt: skip
ACTIVITY_DESCRIPTIONS = (  # (name, category_type, flat rate in cents or None)
    ("Legal research", "hourly", None), ("Court appearance", "hourly", None),
    ("Drafting", "hourly", None), ("Client meeting", "hourly", None),
    ("Telephone call", "hourly", None), ("Correspondence", "hourly", None),
    ("Review documents", "hourly", None), ("Travel time", "hourly", None),
    ("Will preparation", "flat fee", 120000), ("Trademark filing", "flat fee", 90000),
    ("Incorporation package", "flat fee", 150000), ("Negotiation", "hourly", None),
)  # fmt: skip
EXPENSE_CATEGORIES = (  # (name, rate per unit in whole dollars, entry_type)
    ("Court filing fees", 0, "hard_cost"), ("Courier", 0, "hard_cost"),
    ("Photocopies", 1, "soft_cost"), ("Expert witness", 0, "hard_cost"),
    ("Mileage", 1, "soft_cost"), ("Transcripts", 0, "hard_cost"),
    ("Process server", 0, "hard_cost"), ("Registry searches", 0, "hard_cost"),
)  # fmt: skip
TASK_NAMES = (
    "Prepare engagement letter", "Run conflict check", "Draft initial pleadings",
    "Collect client documents", "Serve notice", "File motion", "Prepare witness list",
    "Review settlement offer", "Calendar hearing date", "Send status update to client",
    "Prepare closing documents", "Review discovery responses", "Draft affidavit",
    "Follow up on unpaid invoice", "Schedule deposition", "Renew trademark",
)  # fmt: skip
CALENDAR_SUMMARIES = (
    "Client meeting", "Court hearing", "Deposition", "Mediation session",
    "Call with opposing counsel", "Filing deadline", "Closing meeting", "Case strategy review",
)  # fmt: skip
LOCATIONS = (
    "Conference room A", "Conference room B", "County Courthouse, Room 4",
    "Federal Courthouse", "Client's office", "Video call", None,
)  # fmt: skip
NOTE_SUBJECTS = (
    "Call summary", "Strategy notes", "Client instructions", "Conflict check cleared",
    "Meeting notes", "Settlement discussion", "Documents received", "Intake interview",
)  # fmt: skip
COMMUNICATION_SUBJECTS = (
    "Re: next steps", "Documents for signature", "Hearing date confirmed",
    "Invoice question", "Settlement proposal", "Follow-up from our call",
    "Request for information", "Status update",
)  # fmt: skip
RELATIONSHIPS = (
    "Opposing party", "Opposing counsel", "Expert witness", "Insurance adjuster",
    "Spouse", "Beneficiary", "Co-defendant", "Referral source",
)  # fmt: skip
PICKLISTS = {
    "Referral Source": ("Google search", "Client referral", "Bar association", "Website form", "Returning client", "Yellow pages"),
    "Preferred Language": ("English", "French", "Spanish", "Mandarin"),
}  # fmt: skip
DELETED_OPTIONS = ("Yellow pages",)  # picklist options retired before the firm's history ends
