-- Actual use of the Suite territoriale's services by each commune (ANCT deploiement export,
-- raw.anct_deploiement; empty when not fetched): services listed for it, and those it
-- actually uses (active = 1).
-- unique: code
-- not_null: code, nb_services, nb_services_actifs
with source as (
    select * from raw.anct_deploiement where type = 'commune' and insee is not null
),
final as (
    select insee as code,
           count(distinct service_id)::bigint as nb_services,
           count(distinct service_id) filter (where active)::bigint as nb_services_actifs
    from source
    group by insee
)
select * from final
