-- Approved revenue bills: awaiting payment (receivables) or paid. Drafts, bills
-- awaiting approval, void and deleted bills and trust requests (`trust_kind`) are
-- left out; every other kind is revenue, as in Clio's outstanding client balances.
-- `settled_on`: the day a paid bill left AR: its last valid allocation, else Clio's
-- paid date, else the day of its last update (its allocations may all be voided or
-- missing from the warehouse), else its issue date; null for a bill still owed.
-- `collected`, `written_off`, `last_allocation_date`: its valid allocations'
-- (bill_allocation_totals; null without any), joined here once for every report.
with

approved as (
    select * from intermediate.approved_bills
),

firm_today as (
    select * from intermediate.firm_today
),

bill_allocation_totals as (
    select * from intermediate.bill_allocation_totals
),

final as (
    select
        approved.*,
        approved.state = 'awaiting_payment' as is_receivable,
        -- Clio stamps the last payment in UTC; the firm reads it as a local date.
        cast(timezone(firm_today.firm_timezone, approved.paid_at) as date) as paid_on,
        case when approved.state = 'paid'
            then coalesce(
                bill_allocation_totals.last_allocation_date,
                cast(timezone(firm_today.firm_timezone, approved.paid_at) as date),
                cast(timezone(firm_today.firm_timezone, approved.updated_at) as date),
                approved.issued_at
            )
        end as settled_on,
        bill_allocation_totals.collected,
        bill_allocation_totals.written_off,
        bill_allocation_totals.last_allocation_date,
    from approved
    cross join firm_today
    left join bill_allocation_totals
        on bill_allocation_totals.bill_id = approved.bill_id
)

select * from final
