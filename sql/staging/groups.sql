with

source as (
    select * from clio.groups
),

renamed as (
    select
        ---------- ids
        id as group_id,

        ---------- text
        name as group_name,
        type as group_type,
        etag,

        ---------- booleans
        client_connect_user as is_client_connect_user,

        ---------- timestamps
        updated_at,
    from source
)

select * from renamed
