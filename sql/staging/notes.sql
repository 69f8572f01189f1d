with

source as (
    select * from clio.notes
),

renamed as (
    select
        ---------- ids
        id as note_id,
        matter__id as matter_id,
        contact__id as contact_id,
        author__id as author_id,

        ---------- text
        type as note_type,
        subject,
        detail,
        detail_text_type,
        author__name as author_name,
        etag,

        ---------- numerics
        time_entries_count as count_time_entries,

        ---------- dates
        date as note_date,

        ---------- timestamps
        created_at,
        updated_at,
    from source
)

select * from renamed
