-- One row per enquiry that reached the firm through Clio Grow: every lead (with the matter
-- it became, if any), and every Grow matter that did not come from a known lead. Its lead
-- source is the lead's marketing source: '(no source)' when the lead has none, '(no lead)'
-- for a matter opened without a lead, '(lead not synced)' for a matter whose lead Grow
-- never showed this warehouse. `enquired_at` is when the lead arrived (else the matter's
-- creation); `enquiry_month` its month in the firm's time zone.
with

leads as (
    select * from staging.grow_inbox_leads
),

matters as (
    select * from staging.grow_matters
),

firm_today as (
    select * from intermediate.firm_today
),

from_leads as (
    select
        leads.inbox_lead_id,
        matters.grow_matter_id,
        coalesce(leads.marketing_source_name, '(no source)') as lead_source,
        leads.created_at as enquired_at,
        leads.lead_state,
    from leads
    left join matters
        on matters.inbox_lead_id = leads.inbox_lead_id
),

without_leads as (
    select
        cast(null as bigint) as inbox_lead_id,
        matters.grow_matter_id,
        case when matters.inbox_lead_id is null then '(no lead)' else '(lead not synced)' end
            as lead_source,
        matters.created_at as enquired_at,
        cast(null as varchar) as lead_state,
    from matters
    anti join leads
        on leads.inbox_lead_id = matters.inbox_lead_id
),

-- named columns rather than DuckDB's `union all by name`, which PostgreSQL lacks
enquiries as (
    select inbox_lead_id, grow_matter_id, lead_source, enquired_at, lead_state,
    from from_leads
    union all
    select inbox_lead_id, grow_matter_id, lead_source, enquired_at, lead_state,
    from without_leads
),

final as (
    select
        enquiries.inbox_lead_id,
        enquiries.grow_matter_id,
        enquiries.lead_source,
        enquiries.lead_state,
        enquiries.enquired_at,
        cast(date_trunc('month', timezone(firm_today.firm_timezone, enquiries.enquired_at))
            as date) as enquiry_month,
        matters.manage_matter_id,
        matters.status_category,
        matters.status,
        matters.matter_type,
        matters.created_at as intake_at,
        matters.hired_on,
    from enquiries
    cross join firm_today
    left join matters
        on matters.grow_matter_id = enquiries.grow_matter_id
)

select * from final
