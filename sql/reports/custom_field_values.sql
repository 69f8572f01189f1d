-- One row per live custom field value of a matter or contact, typed by its field's type.
-- Live: not soft-deleted, and its definition not deleted. `value_text` is Clio's value
-- as sent; `value_number` holds numeric and currency values and the id a contact or
-- matter field points to; `value_date` dates; `value_bool` checkboxes (null when Clio
-- sends none); `picklist_label` the chosen option's label. A value that does not read as
-- its type is left null there (the check `custom_field_values_are_typed` names it).
with

matter_custom_field_values as (
    select * from staging.matter_custom_field_values
),

contact_custom_field_values as (
    select * from staging.contact_custom_field_values
),

custom_fields as (
    select * from staging.custom_fields
),

custom_field_picklist_options as (
    select * from staging.custom_field_picklist_options
),

parent_values as (
    select
        'Matter' as parent_type,
        matter_id as parent_id,
        custom_field_value_id,
        custom_field_id,
        picklist_option_id,
        field_name,
        field_type,
        value_text,
        is_soft_deleted,
        created_at,
        updated_at,
    from matter_custom_field_values
    union all
    select
        'Contact' as parent_type,
        contact_id as parent_id,
        custom_field_value_id,
        custom_field_id,
        picklist_option_id,
        field_name,
        field_type,
        value_text,
        is_soft_deleted,
        created_at,
        updated_at,
    from contact_custom_field_values
),

live as (
    select
        parent_values.parent_type,
        parent_values.parent_id,
        parent_values.custom_field_value_id,
        parent_values.custom_field_id,
        parent_values.picklist_option_id,
        coalesce(custom_fields.field_name, parent_values.field_name) as field_name,
        coalesce(custom_fields.field_type, parent_values.field_type) as field_type,
        parent_values.value_text,
        parent_values.created_at,
        parent_values.updated_at,
    from parent_values
    left join custom_fields
        on custom_fields.custom_field_id = parent_values.custom_field_id
    where not coalesce(parent_values.is_soft_deleted, false)
        and not coalesce(custom_fields.is_deleted, false)
),

-- try_cast: null where the text does not read as the type. PostgreSQL has none; there the
-- transpiler guards a cast with a helper (pipelines/reports/dialect.py).
typed as (
    select
        live.*,
        case
            when live.field_type in ('numeric', 'currency')
                then try_cast(trim(live.value_text) as decimal(28, 10))
            when live.field_type in ('contact', 'matter')
                then try_cast(try_cast(trim(live.value_text) as bigint) as decimal(28, 10))
        end as value_number,
        case when live.field_type = 'date'
            then try_cast(trim(live.value_text) as date)
        end as value_date,
        case when live.field_type = 'checkbox'
            then try_cast(trim(live.value_text) as boolean)
        end as value_bool,
        case when live.field_type = 'picklist'
            then coalesce(live.picklist_option_id, try_cast(trim(live.value_text) as bigint))
        end as chosen_option_id,
    from live
),

final as (
    select
        typed.parent_type,
        typed.parent_id,
        typed.custom_field_value_id,
        typed.custom_field_id,
        typed.field_name,
        typed.field_type,
        typed.value_text,
        typed.value_number,
        typed.value_date,
        typed.value_bool,
        custom_field_picklist_options.picklist_label,
        typed.chosen_option_id as picklist_option_id,
        typed.created_at,
        typed.updated_at,
    from typed
    left join custom_field_picklist_options
        on custom_field_picklist_options.picklist_option_id = typed.chosen_option_id
)

select * from final
