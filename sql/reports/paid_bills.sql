-- One row per paid revenue bill: when it was settled, how late, and how (payments,
-- credit-note write-offs, or both).
with

paid as (
    select * from intermediate.approved_revenue_bills
    where state = 'paid'
),

joined as (
    select
        paid.bill_id,
        paid.bill_number,
        paid.client_id,
        paid.client_name,
        paid.currency,
        paid.issued_at,
        paid.due_at,
        -- Clio's `paid_at` is the last payment; a bill settled only by write-off has
        -- none, so its last allocation date stands in.
        coalesce(paid.paid_on, paid.last_allocation_date) as paid_at,
        paid.total,
        paid.amount_due,
        coalesce(paid.collected, 0) as collected,
        coalesce(paid.written_off, 0) as written_off,
    from paid
),

final as (
    select
        bill_id,
        bill_number,
        client_id,
        client_name,
        currency,
        issued_at,
        due_at,
        paid_at,
        paid_at - issued_at as days_to_pay,
        greatest(paid_at - due_at, 0) as days_late,
        paid_at <= due_at as is_paid_on_time,
        total,
        amount_due,
        collected,
        written_off,
        case
            when collected <> 0 and written_off <> 0 then 'both'
            when collected <> 0 then 'payment'
            when written_off <> 0 then 'write_off'
            else 'none'
        end as settled_by,
    from joined
)

select * from final
