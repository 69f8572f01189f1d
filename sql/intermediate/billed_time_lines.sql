-- Time billed on approved revenue bills, one row per service line, with the line's
-- share of what the bill has collected: the bill's payments x the line's sub-total /
-- the bill's total. Taxes and interest are paid on top of fees, so they are not counted
-- as fees collected; a bill's discount is never collected, so it lowers every line's share.
with

line_items as (
    select * from staging.line_items
),

approved_revenue_bills as (
    select * from intermediate.approved_revenue_bills
),

bill_allocation_totals as (
    select * from intermediate.bill_allocation_totals
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
        coalesce(bill_allocation_totals.collected, 0) * line_items.sub_total
            / nullif(approved_revenue_bills.total, 0) as collected_share,
    from line_items
    inner join approved_revenue_bills
        on approved_revenue_bills.bill_id = line_items.bill_id
    left join bill_allocation_totals
        on bill_allocation_totals.bill_id = line_items.bill_id
    where line_items.kind = 'Service'
)

select * from final
