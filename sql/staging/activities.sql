with

source as (
    select * from clio.activities
),

renamed as (
    select
        ---------- ids
        id as activity_id,
        matter__id as matter_id,
        user__id as user_id,
        bill__id as bill_id,
        activity_description__id as activity_description_id,
        expense_category__id as expense_category_id,
        task__id as task_id,

        ---------- text
        type as activity_type,
        matter__display_number as matter_display_number,
        user__name as user_name,
        note,
        reference,
        tax_setting,
        etag,

        ---------- numerics
        quantity as quantity_in_seconds,
        rounded_quantity as rounded_quantity_in_seconds,
        quantity_in_hours,
        rounded_quantity_in_hours,
        price,
        total,
        non_billable_total,

        ---------- booleans
        billed as is_billed,
        on_bill as is_on_bill,
        non_billable as is_non_billable,
        no_charge as is_no_charge,
        flat_rate as is_flat_rate,
        contingency_fee as is_contingency_fee,
        quantity_redacted as is_quantity_redacted,

        ---------- dates
        date as activity_date,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
