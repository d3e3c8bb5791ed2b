-- Fragment shared by marts.indicateurs_presence, _adhesion and _sources: the CTE
-- `controle`, a row calling error() when a criterion of the parameter `criteres` (a list
-- of names, declared in catalogue.toml) has no column in the parameter `table`
-- (schema.table, what the model unpivots into `valeurs`): such a criterion stops the
-- build, named with the table.
controle as (
    select error('catalogue.toml : critère(s) sans colonne dans {{ table }} : '
                 || string_agg(c, ', ')) as erreur
    from (select unnest({{ criteres }}) as c)
    where c not in (select column_name from duckdb_columns()
                    where schema_name || '.' || table_name = '{{ table }}')
    having count(*) > 0
),
