with

source as (
    select * from clio.allocations
),

renamed as (
    select
        ---------- ids
        id as allocation_id,
        bill__id as bill_id,
        matter__id as matter_id,
        contact__id as contact_id,
        parent__id as parent_id,
        destination_bank_account__id as destination_bank_account_id,

        ---------- text
        bill__number as bill_number,
        contact__name as contact_name,
        parent__type as parent_type,
        description,
        payment_type,
        etag,

        ---------- numerics
        amount,

        ---------- booleans
        interest as is_interest,
        has_online_payment as is_online_payment,
        destroyable as is_destroyable,

        ---------- dates
        date as allocation_date,

        ---------- timestamps
        voided_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
