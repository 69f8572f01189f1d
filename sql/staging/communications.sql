with

source as (
    select * from clio.communications
),

renamed as (
    select
        ---------- ids
        id as communication_id,
        user__id as user_id,
        matter__id as matter_id,

        ---------- text
        type as communication_type,
        subject,
        body,
        user__name as user_name,
        matter__display_number as matter_display_number,
        etag,

        ---------- numerics
        time_entries_count as count_time_entries,

        ---------- dates
        date as communication_date,

        ---------- timestamps
        received_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
