with

source as (
    select * from clio.activity_rates
),

renamed as (
    select
        ---------- ids
        id as activity_rate_id,
        user__id as user_id,
        group__id as group_id,
        contact_id,
        co_counsel_contact_id,

        ---------- text
        user__name as user_name,
        group__name as group_name,
        etag,

        ---------- numerics
        rate,

        ---------- booleans
        flat_rate as is_flat_rate,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
