with

source as (
    select * from clio.practice_areas
),

renamed as (
    select
        ---------- ids
        id as practice_area_id,

        ---------- text
        name as practice_area_name,
        category,
        code,
        etag,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
