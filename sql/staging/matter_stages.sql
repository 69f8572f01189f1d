with

source as (
    select * from clio.matter_stages
),

renamed as (
    select
        ---------- ids
        id as matter_stage_id,
        practice_area_id,

        ---------- text
        name as matter_stage_name,
        etag,

        ---------- numerics
        "order" as stage_order,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
