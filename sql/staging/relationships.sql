with

source as (
    select * from clio.relationships
),

renamed as (
    select
        ---------- ids
        id as relationship_id,
        matter__id as matter_id,
        contact__id as contact_id,

        ---------- text
        description,
        contact__name as contact_name,
        etag,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
