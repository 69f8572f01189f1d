with

source as (
    select * from clio.matters
),

renamed as (
    select
        ---------- ids
        id as matter_id,
        coalesce(client__id, client_id) as client_id,
        practice_area__id as practice_area_id,
        responsible_attorney__id as responsible_attorney_id,
        originating_attorney__id as originating_attorney_id,
        responsible_staff__id as responsible_staff_id,
        matter_stage__id as matter_stage_id,
        group__id as group_id,
        evergreen_retainer__id as evergreen_retainer_id,
        currency__id as currency_id,

        ---------- text
        display_number as matter_display_number,
        custom_number,
        description,
        status,
        location,
        client_reference,
        billing_method,
        client__name as client_name,
        practice_area__name as practice_area_name,
        responsible_attorney__name as responsible_attorney_name,
        originating_attorney__name as originating_attorney_name,
        responsible_staff__name as responsible_staff_name,
        currency__code as currency,
        maildrop_address,
        etag,

        ---------- numerics
        number as matter_number,
        evergreen_retainer__minimum_threshold as minimum_trust_threshold,

        ---------- booleans
        billable as is_billable,
        shared as is_shared,
        has_tasks as is_with_tasks,

        ---------- dates
        open_date as opened_at,
        close_date as closed_at,
        pending_date as pended_at,
        last_activity_date as last_activity_at,

        ---------- timestamps
        matter_stage_updated_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
