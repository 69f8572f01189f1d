-- Allocations still in force (not voided), split into payments and credit notes
-- (write-offs) by the kind of record they come from.
with

allocations as (
    select * from staging.allocations
),

valid as (
    select * from allocations
    where voided_at is null
),

final as (
    select
        allocation_id,
        bill_id,
        matter_id,
        contact_id,
        parent_id,
        parent_type,
        allocation_date,
        amount,
        case parent_type
            when 'Payment' then 'payment'
            when 'CreditMemo' then 'credit_note'
        end as allocation_type,
        parent_type = 'Payment' as is_payment,
        parent_type = 'CreditMemo' as is_credit_note,
        case when parent_type = 'Payment' then amount else 0 end as payment_amount,
        case when parent_type = 'CreditMemo' then amount else 0 end as credit_note_amount,
        is_interest,
    from valid
)

select * from final
