-- Per bill: what its valid allocations add up to, by payments and credit notes.
with

valid_allocations as (
    select * from intermediate.valid_allocations
),

final as (
    select
        bill_id,
        sum(payment_amount) as collected,
        sum(credit_note_amount) as written_off,
        count(*) filter (where is_payment) as count_payments,
        count(*) filter (where is_credit_note) as count_credit_notes,
        max(allocation_date) filter (where is_payment) as last_payment_date,
        max(allocation_date) as last_allocation_date,
    from valid_allocations
    group by bill_id
)

select * from final
