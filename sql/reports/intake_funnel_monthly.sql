-- The intake funnel per month and lead source: the enquiries that arrived in the month
-- (leads by their arrival, matters opened without a lead by their creation, in the firm's
-- time zone) and what has become of them so far. `hire_rate` = hired / intakes;
-- `decided_hire_rate` = hired / (hired + declined), leaving out intakes still open.
-- `avg_days_lead_to_hire` is over the hired ones. Lead sources: see intermediate.grow_enquiries.
with

enquiries as (
    select * from intermediate.grow_enquiries
),

hired_matters as (
    select * from reports.intake_hired_matters
),

counted as (
    select
        enquiry_month as month,
        lead_source,
        count(inbox_lead_id) as leads,
        count(*) filter (where lead_state = 'ignored') as ignored_leads,
        count(*) filter (where lead_state = 'untriaged' and grow_matter_id is null) as untriaged_leads,
        count(grow_matter_id) as intakes,
        count(*) filter (where status_category = 'intake') as open_intakes,
        count(*) filter (where status_category = 'hired') as hired,
        count(*) filter (where status_category = 'declined') as declined,
    from enquiries
    group by all
),

days as (
    select
        enquiry_month as month,
        lead_source,
        avg(days_lead_to_hire) as avg_days_lead_to_hire,
    from (select distinct grow_matter_id, enquiry_month, lead_source, days_lead_to_hire
          from hired_matters) as hired_once
    group by all
),

final as (
    select
        counted.month,
        counted.lead_source,
        counted.leads,
        counted.ignored_leads,
        counted.untriaged_leads,
        counted.intakes,
        counted.open_intakes,
        counted.hired,
        counted.declined,
        -- ratios are rounded as decimals, never as DOUBLEs, so every engine rounds alike
        cast(round(cast(counted.hired / nullif(counted.intakes, 0) as decimal(38, 10)), 4) as double) as hire_rate,
        cast(round(cast(counted.hired / nullif(counted.hired + counted.declined, 0) as decimal(38, 10)), 4) as double)
            as decided_hire_rate,
        cast(round(cast(days.avg_days_lead_to_hire as decimal(38, 10)), 1) as double) as avg_days_lead_to_hire,
    from counted
    left join days
        on days.month = counted.month
        and days.lead_source = counted.lead_source
)

select * from final
