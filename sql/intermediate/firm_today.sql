-- The firm's "today" and report options, read from session variables that
-- `pipelines.reports.settings` sets on every connection it opens: `clio_sync_today`
-- (pins the date), `clio_sync_timezone` (the firm's zone; UTC when unset) and
-- `clio_sync_aging_basis` (`due_date` or `issue_date`).
with

options as (
    select
        coalesce(getvariable('clio_sync_timezone'), 'UTC') as firm_timezone,
        coalesce(getvariable('clio_sync_aging_basis'), 'due_date') as aging_basis,
        cast(getvariable('clio_sync_today') as date) as pinned_today,
),

final as (
    select
        coalesce(
            pinned_today,
            cast(timezone(firm_timezone, now()) as date)
        ) as today,
        firm_timezone,
        aging_basis,
    from options
)

select * from final
