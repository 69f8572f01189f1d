with

source as (
    select * from clio.task_types
),

renamed as (
    select
        ---------- ids
        id as task_type_id,

        ---------- text
        name as task_type_name,
        etag,

        ---------- timestamps
        deleted_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
