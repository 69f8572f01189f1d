-- A bill's valid payment allocations sum to its `paid`, and its credit-note allocations
-- to its `credits_issued` (within 0.01).
with

approved_revenue_bills as (
    select * from intermediate.approved_revenue_bills
),

bill_allocation_totals as (
    select * from intermediate.bill_allocation_totals
),

compared as (
    select
        approved_revenue_bills.bill_id,
        approved_revenue_bills.bill_number,
        approved_revenue_bills.amount_paid,
        coalesce(bill_allocation_totals.collected, 0) as allocated_payments,
        approved_revenue_bills.credits_issued,
        coalesce(bill_allocation_totals.written_off, 0) as allocated_credit_notes,
    from approved_revenue_bills
    left join bill_allocation_totals
        on bill_allocation_totals.bill_id = approved_revenue_bills.bill_id
),

final as (
    select * from compared
    where abs(amount_paid - allocated_payments) > 0.01
        or abs(credits_issued - allocated_credit_notes) > 0.01
)

select * from final
