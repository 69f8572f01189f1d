-- Clio Grow matters: prospective work, from intake to hired or declined. A hired matter's
-- `manage_matter_id` (Grow's `clio_id`) is the Manage matter; intake and declined ones have
-- none. The lead source is not on a Grow matter: it comes through its lead (`inbox_lead_id`).
with

source as (
    select * from grow.matters
),

renamed as (
    select
        ---------- ids
        id as grow_matter_id,
        clio_id as manage_matter_id,
        inbox_lead_id,
        client__id as grow_contact_id,
        global_id,

        ---------- text
        description,
        type as matter_type,
        location,
        status,
        status_category,
        client__full_name as client_name,
        redacted_fields,

        ---------- booleans
        is_locked,

        ---------- dates
        hired_date as hired_on,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
