with

source as (
    select * from clio.contacts__custom_field_values
),

renamed as (
    select
        ---------- ids
        id as custom_field_value_id,  -- text: Clio's value ids are strings
        contact_id,
        custom_field__id as custom_field_id,
        picklist_option__id as picklist_option_id,

        ---------- text
        field_name,
        field_type,
        value as value_text,  -- as Clio sends it; typed in reports.custom_field_values

        ---------- booleans
        soft_deleted as is_soft_deleted,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
