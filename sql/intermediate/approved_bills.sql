-- Approved revenue bills as staging has them: awaiting payment or paid, and not a
-- trust request (`trust_kind`). `approved_revenue_bills` adds their settled dates and
-- allocation totals; reports that need only the bill read this model, since joining
-- those totals for every bill costs more than such a report does.
with

bills as (
    select * from staging.bills
),

final as (
    select * from bills
    where state in ('awaiting_payment', 'paid')
        and kind is distinct from 'trust_kind'
)

select * from final
