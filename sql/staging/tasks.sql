with

source as (
    select * from clio.tasks
),

renamed as (
    select
        ---------- ids
        id as task_id,
        matter__id as matter_id,
        task_type__id as task_type_id,
        assigner__id as assigner_id,
        assignee__id as assignee_id,

        ---------- text
        name as task_name,
        status,
        priority,
        description,
        description_text_type,
        permission,
        matter__display_number as matter_display_number,
        task_type__name as task_type_name,
        assigner__name as assigner_name,
        assignee__type as assignee_type,
        assignee__name as assignee_name,
        etag,

        ---------- numerics
        time_estimated as time_estimated_in_seconds,
        time_entries_count as count_time_entries,

        ---------- booleans
        notify_completion as is_completion_notified,
        statute_of_limitations as is_statute_of_limitations,

        ---------- dates
        due_at,

        ---------- timestamps
        completed_at,
        created_at,
        updated_at,
    from source
)

select * from renamed
