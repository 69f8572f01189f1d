-- A live custom field value of a typed field reads as its type (currency in whole cents).
with

custom_field_values as (
    select * from reports.custom_field_values
),

final as (
    select
        parent_type,
        parent_id,
        custom_field_id,
        field_name,
        field_type,
        value_text,
    from custom_field_values
    where nullif(trim(value_text), '') is not null
        and (
            (field_type in ('numeric', 'contact', 'matter') and value_number is null)
            or (field_type = 'currency'
                and (value_number is null or value_number <> round(value_number, 2)))
            or (field_type = 'date' and value_date is null)
            or (field_type = 'checkbox' and value_bool is null)
            or (field_type = 'picklist' and picklist_label is null)
        )
)

select * from final
