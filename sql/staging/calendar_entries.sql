with

source as (
    select * from clio.calendar_entries
),

renamed as (
    select
        ---------- ids
        id as calendar_entry_id,  -- text: Clio's calendar entry ids are strings
        parent_calendar_entry_id,
        matter__id as matter_id,
        calendar_owner__id as calendar_owner_id,
        calendar_entry_event_type__id as event_type_id,

        ---------- text
        summary,
        description,
        location,
        start_time,
        end_time,
        start_at_time_zone,
        recurrence_rule,
        permission,
        matter__display_number as matter_display_number,
        calendar_owner__name as calendar_owner_name,
        calendar_entry_event_type__name as event_type_name,
        etag,

        ---------- numerics
        time_entries_count as count_time_entries,

        ---------- booleans
        all_day as is_all_day,
        court_rule as is_court_rule,

        ---------- dates
        start_date,
        end_date,

        ---------- timestamps
        start_at,
        end_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
