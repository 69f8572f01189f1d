with

source as (
    select * from clio.custom_fields
),

renamed as (
    select
        ---------- ids
        id as custom_field_id,

        ---------- text
        name as field_name,
        parent_type,
        field_type,
        etag,

        ---------- numerics
        display_order,

        ---------- booleans
        displayed as is_displayed,
        deleted as is_deleted,
        required as is_required,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
