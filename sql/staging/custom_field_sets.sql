with

source as (
    select * from clio.custom_field_sets
),

renamed as (
    select
        ---------- ids
        id as custom_field_set_id,

        ---------- text
        name as custom_field_set_name,
        parent_type,
        etag,

        ---------- booleans
        displayed as is_displayed,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
