with

source as (
    select * from clio.custom_fields__picklist_options
),

renamed as (
    select
        ---------- ids
        id as picklist_option_id,
        custom_field_id,

        ---------- text
        option as picklist_label,

        ---------- timestamps
        deleted_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
