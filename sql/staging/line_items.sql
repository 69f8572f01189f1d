with

source as (
    select * from clio.line_items
),

renamed as (
    select
        ---------- ids
        id as line_item_id,
        bill__id as bill_id,
        matter__id as matter_id,
        activity__id as activity_id,
        user__id as user_id,

        ---------- text
        type as line_item_type,
        kind,
        description,
        note,
        etag,

        ---------- numerics
        quantity,
        price,
        sub_total,
        tax,
        secondary_tax,
        total,
        group_ordering,

        ---------- booleans
        taxable as is_taxable,
        secondary_taxable as is_secondary_taxable,

        ---------- dates
        date as line_item_date,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
