-- Clio Grow contacts. `manage_contact_id` is Grow's `clio_id`: the Manage contact Grow
-- created for the client once a matter was hired (null before, and for people never hired).
with

source as (
    select * from grow.contacts
),

renamed as (
    select
        ---------- ids
        id as grow_contact_id,
        clio_id as manage_contact_id,
        global_id,

        ---------- text
        name as contact_name,
        first_name,
        last_name,
        type as contact_type,
        status as contact_status,
        emails,
        phone_numbers,
        addresses,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
