-- What the matters hired from each lead source have billed, collected, written off and
-- still owe in Manage, per enquiry month and currency (money as of the firm's today).
with

hired_matters as (
    select * from reports.intake_hired_matters
),

final as (
    select
        enquiry_month as month,
        lead_source,
        currency,
        count(distinct grow_matter_id) as hired,
        sum(billed) as billed,
        sum(collected) as collected,
        sum(written_off) as written_off,
        sum(outstanding) as outstanding,
    from hired_matters
    where currency is not null
    group by all
)

select * from final
