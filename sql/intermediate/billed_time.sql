-- Time billed on approved revenue bills, per bill, timekeeper and month of work (the
-- service lines' date), with its share of what the bill has collected: the bill's
-- payments x the lines' sub-total / the bill's total. Taxes and interest are paid on top
-- of fees, so they are not counted as fees collected; a bill's discount is never
-- collected, so it lowers every line's share.
with

line_items as (
    select * from staging.line_items
    where kind = 'Service'
),

approved_revenue_bills as (
    select * from intermediate.approved_revenue_bills
),

bill_allocation_totals as (
    select * from intermediate.bill_allocation_totals
),

-- Lines summed before the join: a bill's share is then taken once per timekeeper-month.
bill_lines as (
    select
        bill_id,
        user_id,
        cast(date_trunc('month', line_item_date) as date) as month,
        sum(quantity) as hours,
        sum(sub_total) as sub_total,
    from line_items
    group by bill_id, user_id, month
),

final as (
    select
        bill_lines.bill_id,
        bill_lines.user_id,
        bill_lines.month,
        approved_revenue_bills.currency,
        bill_lines.hours,
        bill_lines.sub_total,
        -- a ratio, so in double precision; rounded to cents where it is summed up
        cast(coalesce(bill_allocation_totals.collected, 0) as double)
            * cast(bill_lines.sub_total as double)
            / nullif(cast(approved_revenue_bills.total as double), 0) as collected_share,
    from bill_lines
    inner join approved_revenue_bills
        on approved_revenue_bills.bill_id = bill_lines.bill_id
    left join bill_allocation_totals
        on bill_allocation_totals.bill_id = bill_lines.bill_id
)

select * from final
