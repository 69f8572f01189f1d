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

-- The approved revenue bills of intermediate.approved_revenue_bills, read from staging:
-- that model's dates in the firm's time zone cost more than this whole model needs.
approved_revenue_bills as (
    select * from staging.bills
    where state in ('awaiting_payment', 'paid')
        and kind is distinct from 'trust_kind'
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
