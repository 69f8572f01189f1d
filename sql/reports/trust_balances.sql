-- Matters holding trust money or with an evergreen retainer's minimum: the balance of
-- their trust accounts (Clio's per-matter account balances), and how far below the
-- minimum it is. One row per matter and currency of its trust accounts; a matter with
-- a minimum and no trust money has one row, in the matter's currency.
with

matter_account_balances as (
    select * from staging.matter_account_balances
    where bank_account_type = 'Trust'
),

matters as (
    select * from staging.matters
),

currencies as (
    select * from intermediate.currencies
),

matter_currencies as (
    select * from intermediate.matter_currencies
),

held as (
    select
        matter_account_balances.matter_id,
        currencies.currency,
        sum(matter_account_balances.balance) as trust_balance,
        count(*) as count_trust_accounts,
    from matter_account_balances
    left join currencies
        on currencies.currency_id = matter_account_balances.currency_id
    group by matter_account_balances.matter_id, currencies.currency
),

required as (
    select
        matters.matter_id,
        matter_currencies.currency,
    from matters
    left join matter_currencies
        on matter_currencies.matter_id = matters.matter_id
    where matters.minimum_trust_threshold is not null
),

matter_currency_rows as (
    select matter_id, currency, trust_balance, count_trust_accounts,
    from held
    where trust_balance <> 0 or matter_id in (select matter_id from required)
    union all
    select required.matter_id, required.currency, 0 as trust_balance, 0 as count_trust_accounts,
    from required
    where required.matter_id not in (select matter_id from held)
),

final as (
    select
        matter_currency_rows.matter_id,
        matters.matter_display_number,
        matters.client_id,
        matters.client_name,
        matters.responsible_attorney_id,
        matters.responsible_attorney_name,
        matter_currency_rows.currency,
        cast(matter_currency_rows.trust_balance as decimal(18, 2)) as trust_balance,
        matters.minimum_trust_threshold as minimum_threshold,
        -- greatest() skips nulls (here and in PostgreSQL): no minimum, no shortfall
        case when matters.minimum_trust_threshold is not null
            then greatest(matters.minimum_trust_threshold - matter_currency_rows.trust_balance, 0)
        end as shortfall,
        coalesce(
            matter_currency_rows.trust_balance < matters.minimum_trust_threshold, false
        ) as is_below_minimum,
        matter_currency_rows.count_trust_accounts,
    from matter_currency_rows
    left join matters
        on matters.matter_id = matter_currency_rows.matter_id
)

select * from final
