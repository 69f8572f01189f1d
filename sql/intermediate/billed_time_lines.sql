-- Time billed on approved revenue bills, one row per service line, with the line's
-- share of what the bill has collected: the bill's `paid` (its valid payments) x the
-- line's sub-total / the bill's total. Taxes and interest are paid on top of fees, so
-- they are not counted as fees collected; a bill's discount is never collected, so it
-- lowers every line's share.
with

line_items as (
    select * from staging.line_items
    where kind = 'Service'
),

-- the bills alone: approved_revenue_bills' settled dates cost more than this model
approved_revenue_bills as (
    select * from intermediate.approved_bills
),

final as (
    select
        line_items.line_item_id,
        line_items.bill_id,
        line_items.matter_id,
        line_items.user_id,
        line_items.line_item_date,
        approved_revenue_bills.currency,
        line_items.quantity as hours,
        line_items.sub_total,
        -- a ratio, so in double precision; rounded to cents where it is summed up
        cast(approved_revenue_bills.amount_paid as double)
            * cast(line_items.sub_total as double)
            / nullif(cast(approved_revenue_bills.total as double), 0) as collected_share,
    from line_items
    inner join approved_revenue_bills
        on approved_revenue_bills.bill_id = line_items.bill_id
)

select * from final
