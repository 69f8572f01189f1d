-- The firm's "today" and report options, read from session variables that
-- `pipelines.reports.settings` sets on every connection it opens: `clio_sync_today`
-- (pins the date), `clio_sync_timezone` (the firm's zone; UTC when unset),
-- `clio_sync_aging_basis` (`due_date` or `issue_date`) and `clio_sync_workday_hours`
-- (a timekeeper's capacity per weekday; 8 when unset).
with

options as (
    select
        coalesce(getvariable('clio_sync_timezone'), 'UTC') as firm_timezone,
        coalesce(getvariable('clio_sync_aging_basis'), 'due_date') as aging_basis,
        cast(getvariable('clio_sync_today') as date) as pinned_today,
        coalesce(cast(getvariable('clio_sync_workday_hours') as decimal(4, 2)), 8) as workday_hours,
),

final as (
    select
        coalesce(
            pinned_today,
            cast(timezone(firm_timezone, now()) as date)
        ) as today,
        firm_timezone,
        aging_basis,
        workday_hours,
    from options
)

select * from final
