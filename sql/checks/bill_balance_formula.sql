-- A bill's balance equals its amount due less what was paid and credited (within 0.01).
with

approved_revenue_bills as (
    select * from intermediate.approved_revenue_bills
),

final as (
    select
        bill_id,
        bill_number,
        state,
        amount_due,
        amount_paid,
        credits_issued,
        balance,
        amount_due - amount_paid - credits_issued as expected_balance,
    from approved_revenue_bills
    where abs(balance - (amount_due - amount_paid - credits_issued)) > 0.01
)

select * from final
