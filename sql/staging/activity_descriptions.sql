with

source as (
    select * from clio.activity_descriptions
),

renamed as (
    select
        ---------- ids
        id as activity_description_id,
        utbms_activity_id,
        utbms_task_id,
        currency__id as currency_id,

        ---------- text
        name as activity_description_name,
        type as activity_description_type,
        category_type,
        utbms_task_name,
        xero_service_code,
        rate__type as rate_type,
        rate__hierarchy as rate_hierarchy,
        currency__code as currency,
        etag,

        ---------- numerics
        rate__amount as rate,
        rate__non_billable_amount as non_billable_rate,

        ---------- booleans
        "default" as is_default,
        visible_to_co_counsel as is_visible_to_co_counsel,
        accessible_to_user as is_accessible_to_user,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
