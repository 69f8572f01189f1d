-- The aging buckets per client, matter and responsible attorney, in each currency.
-- `clio-sync report ar-aging --by client|matter|attorney` rolls these rows up.
with

ar_aging_detail as (
    select * from reports.ar_aging_detail
),

final as (
    select
        client_id,
        client_name,
        matter_id,
        matter_display_number,
        responsible_attorney_id,
        responsible_attorney_name,
        currency,
        count(distinct bill_id) as count_bills,
        sum(current_amount) as current_amount,
        sum(days_1_30_amount) as days_1_30_amount,
        sum(days_31_60_amount) as days_31_60_amount,
        sum(days_61_90_amount) as days_61_90_amount,
        sum(days_91_plus_amount) as days_91_plus_amount,
        sum(balance) as balance,
    from ar_aging_detail
    group by all
)

select * from final
