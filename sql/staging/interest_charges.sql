with

source as (
    select * from clio.interest_charges
),

renamed as (
    select
        ---------- ids
        id as interest_charge_id,
        bill__id as bill_id,

        ---------- text
        description,
        etag,

        ---------- numerics
        total,

        ---------- dates
        date as interest_charge_date,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
