-- Tasks still to do (status neither `complete` nor `draft`), with how many days they
-- are past their due date on the firm's today (0 when not yet due, null without one).
with

tasks as (
    select * from staging.tasks
    where coalesce(status, '') not in ('complete', 'draft')
),

matters as (
    select * from staging.matters
),

firm_today as (
    select * from intermediate.firm_today
),

final as (
    select
        tasks.task_id,
        tasks.task_name,
        tasks.status,
        tasks.priority,
        tasks.task_type_id,
        tasks.task_type_name,
        tasks.due_at,
        case when tasks.due_at is not null
            then greatest(firm_today.today - tasks.due_at, 0)
        end as days_overdue,
        coalesce(tasks.due_at < firm_today.today, false) as is_overdue,
        tasks.assignee_id,
        tasks.assignee_type,
        tasks.assignee_name,
        tasks.assigner_id,
        tasks.assigner_name,
        tasks.matter_id,
        coalesce(matters.matter_display_number, tasks.matter_display_number)
            as matter_display_number,
        matters.client_id,
        matters.client_name,
        tasks.is_statute_of_limitations,
        tasks.time_estimated_in_seconds,
        tasks.created_at,
        tasks.updated_at,
    from tasks
    cross join firm_today
    left join matters
        on matters.matter_id = tasks.matter_id
)

select * from final
