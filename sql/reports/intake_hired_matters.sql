-- One row per Grow matter hired: where it came from, how long from lead to hire, and what
-- the Manage matter it became has billed, collected, written off and still owes (as of
-- the firm's today; one row per currency the matter billed in, normally one). A matter
-- hired before Grow created it in Manage, or whose Manage matter was deleted, shows no
-- Manage matter and no money.
with

enquiries as (
    select * from intermediate.grow_enquiries
),

manage_matters as (
    select * from staging.matters
),

money as (
    select * from intermediate.manage_matter_money
),

firm_today as (
    select * from intermediate.firm_today
),

hired as (
    select
        enquiries.*,
        cast(timezone(firm_today.firm_timezone, enquiries.enquired_at) as date) as enquired_on,
        cast(timezone(firm_today.firm_timezone, enquiries.intake_at) as date) as intake_on,
    from enquiries
    cross join firm_today
    where enquiries.status_category = 'hired'
),

final as (
    select
        hired.grow_matter_id,
        hired.manage_matter_id,
        manage_matters.matter_display_number,
        manage_matters.client_id,
        manage_matters.client_name,
        hired.inbox_lead_id,
        hired.lead_source,
        hired.matter_type,
        hired.enquiry_month,
        hired.enquired_on,
        hired.intake_on,
        hired.hired_on,
        hired.intake_on - hired.enquired_on as days_lead_to_intake,
        hired.hired_on - hired.enquired_on as days_lead_to_hire,
        money.currency,
        coalesce(money.billed, 0) as billed,
        coalesce(money.collected, 0) as collected,
        coalesce(money.written_off, 0) as written_off,
        coalesce(money.outstanding, 0) as outstanding,
    from hired
    left join manage_matters
        on manage_matters.matter_id = hired.manage_matter_id
    left join money
        on money.matter_id = hired.manage_matter_id
)

select * from final
