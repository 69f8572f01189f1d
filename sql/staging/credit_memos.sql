with

source as (
    select * from clio.credit_memos
),

renamed as (
    select
        ---------- ids
        id as credit_memo_id,
        user__id as user_id,
        contact__id as contact_id,

        ---------- text
        contact__name as contact_name,
        description,
        etag,

        ---------- numerics
        amount,

        ---------- booleans
        discount as is_discount,

        ---------- dates
        date as credit_memo_date,

        ---------- timestamps
        voided_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
