-- One row per valid allocation: money collected (payments) or written off (credit
-- notes), with the bill and client it settled.
with

valid_allocations as (
    select * from intermediate.valid_allocations
),

bills as (
    select * from staging.bills
),

joined as (
    select
        valid_allocations.allocation_id,
        valid_allocations.allocation_date,
        valid_allocations.allocation_type,
        valid_allocations.is_payment,
        valid_allocations.parent_id,
        valid_allocations.parent_type,
        valid_allocations.bill_id,
        bills.bill_number,
        bills.state as bill_state,
        bills.kind as bill_kind,
        coalesce(bills.client_id, valid_allocations.contact_id) as client_id,
        bills.client_name,
        valid_allocations.matter_id,
        bills.currency,
        valid_allocations.amount,
        valid_allocations.payment_amount as collected,
        valid_allocations.credit_note_amount as written_off,
        bills.issued_at,
        bills.due_at,
        valid_allocations.allocation_date - bills.issued_at as days_after_issue,
        valid_allocations.allocation_date - bills.due_at as days_after_due,
    from valid_allocations
    left join bills
        on bills.bill_id = valid_allocations.bill_id
)

select * from joined
