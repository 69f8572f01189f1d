-- Clio Grow inbox leads. A lead that became a matter leaves the inbox; it is kept here in
-- the state last seen (`accepted` when Grow showed it after the conversion), and its
-- matter names it (`grow_matters.inbox_lead_id`).
with

source as (
    select * from grow.inbox_leads
),

renamed as (
    select
        ---------- ids
        id as inbox_lead_id,
        marketing_source__id as marketing_source_id,
        matter_type__id as matter_type_id,
        matter_location__id as location_id,

        ---------- text
        first_name,
        last_name,
        email,
        phone_number,
        state as lead_state,
        marketing_source__name as marketing_source_name,
        matter_type__name as matter_type_name,
        matter_location__name as location_name,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
