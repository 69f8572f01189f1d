-- requires: clio.billable_matters
-- A matter's trust balance equals Clio's `billable_matters.amount_in_trust` (within 0.01).
with

trust_balances as (
    select * from reports.trust_balances
),

billable_matters as (
    select * from staging.billable_matters
),

ours as (
    select
        matter_id,
        sum(trust_balance) as trust_balance,
    from trust_balances
    group by matter_id
),

compared as (
    select
        billable_matters.matter_id,
        billable_matters.matter_display_number,
        coalesce(ours.trust_balance, 0) as trust_balance,
        coalesce(billable_matters.amount_in_trust, 0) as clio_amount_in_trust,
    from billable_matters
    left join ours
        on ours.matter_id = billable_matters.matter_id
),

final as (
    select * from compared
    where abs(trust_balance - clio_amount_in_trust) > 0.01
)

select * from final
