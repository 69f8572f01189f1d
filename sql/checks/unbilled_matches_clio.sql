-- requires: clio.billable_matters
-- A matter's unbilled work equals Clio's `billable_matters.unbilled_amount` (within 0.01).
with

unbilled_work as (
    select * from reports.unbilled_work
),

billable_matters as (
    select * from staging.billable_matters
),

ours as (
    select
        matter_id,
        sum(amount) as unbilled_amount,
        sum(hours) as unbilled_hours,
    from unbilled_work
    group by matter_id
),

compared as (
    select
        coalesce(ours.matter_id, billable_matters.matter_id) as matter_id,
        billable_matters.matter_display_number,
        coalesce(ours.unbilled_amount, 0) as unbilled_amount,
        coalesce(billable_matters.unbilled_amount, 0) as clio_unbilled_amount,
        coalesce(ours.unbilled_hours, 0) as unbilled_hours,
        coalesce(billable_matters.unbilled_hours, 0) as clio_unbilled_hours,
    from ours
    full outer join billable_matters
        on billable_matters.matter_id = ours.matter_id
),

final as (
    select * from compared
    where abs(unbilled_amount - clio_unbilled_amount) > 0.01
)

select * from final
