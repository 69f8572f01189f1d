with

source as (
    select * from clio.trust_line_items
),

renamed as (
    select
        ---------- ids
        id as trust_line_item_id,
        bill__id as bill_id,
        matter__id as matter_id,
        client__id as client_id,

        ---------- text
        note,
        etag,

        ---------- numerics
        total,

        ---------- dates
        date as trust_line_item_date,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
