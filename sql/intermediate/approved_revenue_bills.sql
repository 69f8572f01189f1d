-- Approved revenue bills: awaiting payment (receivables) or paid. Drafts, bills
-- awaiting approval, void and deleted bills and trust requests (`trust_kind`) are
-- left out; every other kind is revenue, as in Clio's outstanding client balances.
with

bills as (
    select * from staging.bills
),

firm_today as (
    select * from intermediate.firm_today
),

approved as (
    select * from bills
    where state in ('awaiting_payment', 'paid')
        and kind is distinct from 'trust_kind'
),

final as (
    select
        approved.*,
        approved.state = 'awaiting_payment' as is_receivable,
        -- Clio stamps the last payment in UTC; the firm reads it as a local date.
        cast(timezone(firm_today.firm_timezone, approved.paid_at) as date) as paid_on,
    from approved
    cross join firm_today
)

select * from final
