import Foundation
import MonaData
import MonaFormats
import MonaRunKit
import MonaTensor
import Testing
@testable import MonaTransfer

/// Values computed by aeon 1.6.0's MiniRocket and scikit-learn 1.9's RidgeCV / RidgeClassifierCV
/// (bench/expert_golden.py prints this block; the inputs are closed-form and rebuilt below).
enum ExpertGolden {
    static let dilations9: [Int] = [1]
    static let perDilation9: [Int] = [119]
    static let dilations10: [Int] = [1]
    static let perDilation10: [Int] = [119]
    static let dilations24: [Int] = [1, 2]
    static let perDilation24: [Int] = [79, 40]
    static let dilations25: [Int] = [1, 2, 3]
    static let perDilation25: [Int] = [75, 41, 3]
    static let dilations41: [Int] = [1, 2, 3, 4]
    static let perDilation41: [Int] = [53, 30, 18, 18]
    static let dilations100: [Int] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    static let perDilation100: [Int] = [34, 19, 15, 8, 12, 4, 8, 7, 3, 3, 3, 3]
    static let dilations150: [Int] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 18]
    static let perDilation150: [Int] = [30, 15, 12, 12, 4, 8, 8, 4, 4, 4, 3, 3, 3, 3, 3, 3]
    static let dilations251: [Int] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 17, 20, 22, 25, 27, 31]
    static let perDilation251: [Int] = [27, 12, 12, 8, 8, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3]
    static let dilations2000: [Int] = [1, 2, 3, 4, 5, 7, 8, 10, 12, 14, 17, 20, 24, 29, 35, 42, 50, 60, 71, 85, 102, 122, 146, 174, 209, 249]
    static let perDilation2000: [Int] = [15, 12, 4, 8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3]
    static let uniDilations: [Int] = [1, 2]
    static let uniPerDilation: [Int] = [3, 1]
    static let uniBiases: [Float] = [0.389223337, -3.90466809, 3.7789669, 0.092371352, -6.12293673, 2.03691053, -1.45337868, 2.65098596, 0.796526313, -2.85879016, 0.770560801, -0.938541472, -4.78543234, 0.418002129, -2.71496534, 4.37109804, -1.89819586, -5.1381011, 1.86888063, -3.08026123, 6.60740423, 0.730150819, -3.77722454, 3.41236472, -0.379552841, -5.01099634, 1.62813425, -1.60025048, 2.02318907, -0.363501579, -2.23405385, 0.383080482, -0.852192581, -4.76289368, -0.341762573, -2.69662118, 3.99399948, -1.9462657, -4.57882452, 2.08227897, -1.9279691, 4.90092468, 0.290455669, -2.20388389, 1.33834159, -0.898119152, -0.965707123, -0.626458645, -1.26223433, 1.33456647, -0.710701525, -3.45486474, 1.3487463, -2.09207535, 7.88223076, 1.15325511, -2.34888387, 2.05859303, 0.275424093, -2.42273855, 0.575424254, -1.25267494, 2.61236691, -0.390887767, -1.69875777, 1.66872108, -1.10506225, -4.42284012, 2.14446878, -2.53230715, 3.3649106, 0.165319249, -2.68552852, 2.12339902, -1.33018374, 6.98141336, 1.40958548, -4.67431784, 3.56504869, -0.467819035, -4.83346176, 1.78858829, -4.234375, 6.51260996, -0.617032349, -4.76283598, 3.61927223, -0.983971298, -7.07013655, 1.20332003, -1.60481846, 2.07267594, -0.40812999, -3.22551227, 1.1119231, -1.33016837, 3.10771036, -0.527718306, -3.55648208, 3.42898583, -2.03476143, -5.23457623, 1.97306585, -2.37337399, 4.33466864, 0.42002216, -2.95441484, 2.08291864, -0.50962311, 2.6884594, 0.511706352, -1.69780612, 1.3032726, -0.454367518, -4.23970366, 1.52252567, -2.55045557, 3.2368474, 1.33498931, -3.28606868, 1.68342435, -0.109663002, -2.2474699, 0.00297422521, -0.00399875501, 0.391403377, -0.303088278, -1.75170064, 1.37577927, -1.25638354, 4.1758647, 1.65615201, -1.41254258, 1.85339534, -0.0855237544, -3.33078122, 0.965558648, -0.907756031, 3.79937649, 1.12347877, -3.27458978, 2.05832696, -1.50770974, 4.86461449, 1.63447952, -4.36424398, 5.68229818, -0.843664587, -6.3293767, 3.34963751, -1.43135583, 4.99977303, 0.47497642, -2.2977035, 2.60170913, -0.303314328, -3.86700964, 1.34307516, -1.66413224, 3.93228912, -0.351271421, -3.56677914, 3.38597441, -1.40617752, 6.38110971, 1.463799, -1.48077285, 3.27401996, -0.0486832969, -1.64034712, 1.29168439, -1.0520761, 2.67545819, 0.912947476, -2.74987483, 2.24767995, -0.360503018, -3.20112371, 0.979787052, -1.30494678, 0.917441726, 0.888489008, -2.15726042, 1.79995096, -1.22642899, 3.66570926, 0.712044775, -1.86754882, 2.20578313, -0.613416493, -6.14787865, 1.98868775, -2.7507031, 6.58107328, 1.70482802, -3.8688612, 4.13620567, -0.216320932, 6.05147934, 1.22528362, -1.39038479, 2.78199601, 0.646820605, -2.99686861, 3.25488138, -0.832006156, 6.00107765, 1.44846618, -2.48508501, 2.45285153, -0.0922206119, -4.42595863, 0.916000247, -1.72055781, 3.49834418, 0.297123045, -1.10147464, 1.68126512, -0.310380816, 4.19935656, 0.958214045, -1.57005775, 5.75337744, 0.9929654, -6.47945023, 2.27282, -1.73297369, 5.69592714, 1.01162612, -2.11493397, 2.40627909, -0.110479638, -4.40204477, 2.29848456, -1.71114528, 3.45556927, 0.352254927, -1.96149635, 1.51662731, -0.871294379, 8.26745605, 2.28758383, -4.83952618, 3.89971137, -0.800222993, -4.48704481, 1.4950732, -2.175174, 5.40303278, -0.603118718, -4.73778582, 3.25703526, -3.5405066, 6.17101955, -0.184367746, -5.40066433, 2.33902669, -1.41729474, -7.16529655, 0.584011972, -1.96198344, 3.49492812, -0.65550822, -3.51835179, 0.592967868, -1.39414299, -3.84264255, -0.142341688, -3.58930659, 2.85873055, 0.819299936, -2.89988995, 1.59885073, -3.18710947, 4.24773359, 0.574819624, -2.6495645, 2.32492495, 0.533025086, -8.00312328, -0.620631695, -2.08337879, 4.59561586, 0.241347522, -3.1655674, 1.00651538, -0.462519228, 6.85166407, 0.288464129, -2.84495473, 1.54609346, 1.49243641, -2.57305717, 0.900316596, -1.30713737, 6.25993299, -0.0423475988, -3.07057738, 2.13341546, 0.421362489, -6.20024538, 1.68082702, -2.23267817, 4.0112834, -0.970256686, -3.58710003, 2.28403759, -0.227414742, 5.39679241, 1.01103771, -4.05657768, 3.6323781, 0.979937196, -5.51444483, 1.1243546, -2.19827414, 4.10967779, 0.184061706, -2.74338722, 3.18724394, 0.704796016, -5.25743437, 1.21661127, -3.63794065, 4.17408037, -0.918047428, -2.16850424, 2.53161311, -1.22665143, 5.79439354, 1.47602034, -2.95192337, 4.30239058, 0.393720031, -7.3660903, 2.5607903]
    static let uniFeaturesTrain: [Float] = [0.400000006, 0.75, 0.150000006, 0.5, 0.833333313, 0.416666657, 0.649999976, 0.100000001, 0.449999988, 0.75, 0.0833333358, 0.583333313, 0.949999988, 0.349999994, 0.699999988, 0.166666672, 0.5, 0.75, 0.25, 0.649999976, 0.0500000007, 0.5, 0.75, 0.25, 0.550000012, 0.899999976, 0.300000012, 0.583333313, 0, 0.333333343, 0.800000012, 0.25, 0.600000024, 0.916666687, 0.5, 0.75, 0.150000006, 0.5, 0.899999976, 0.166666672, 0.5, 0, 0.449999988, 0.800000012, 0.200000003, 0.333333343, 1, 0, 0.699999988, 0.100000001, 0.5, 0.833333313, 0.416666657, 0.666666687, 0.0500000007, 0.400000006, 0.75, 0, 0.333333343, 0.833333313, 0.300000012, 0.649999976, 0.100000001, 0.583333313, 0.75, 0.25, 0.600000024, 0.949999988, 0.349999994, 0.666666687, 0.166666672, 0.333333343, 0.850000024, 0.300000012, 0.649999976, 0, 0.333333343, 0.75, 0.200000003, 0.550000012, 0.899999976, 0.416666657, 0.833333313, 0.166666672, 0.449999988, 0.850000024, 0.25, 0.666666687, 0.916666687, 0.416666657, 0.75, 0.150000006, 0.5, 0.916666687, 0.333333343, 0.666666687, 0.0500000007, 0.449999988, 0.800000012, 0.333333343, 0.75, 0.916666687, 0.349999994, 0.699999988, 0.150000006, 0.416666657, 0.75, 0.25, 0.649999976, 0.0500000007, 0.400000006, 0.833333313, 0.25, 0.666666687, 0.899999976, 0.300000012, 0.699999988, 0, 0.25, 0.666666687, 0.25, 0.600000024, 0.949999988, 0.25, 0.916666687, 0, 0.5, 0.850000024, 0.300000012, 0.5, 0, 0.166666672, 0.800000012, 0.200000003, 0.550000012, 1, 0.5, 0.833333313, 0.100000001, 0.5, 0.850000024, 0.416666657, 0.666666687, 0.0833333358, 0.400000006, 0.75, 0.150000006, 0.583333313, 0.833333313, 0.333333343, 0.649999976, 0.100000001, 0.449999988, 0.75, 0.25, 0.583333313, 0.949999988, 0.349999994, 0.699999988, 0.25, 0.666666687, 0.916666687, 0.25, 0.649999976, 0.0500000007, 0.25, 0.583333313, 0.166666672, 0.550000012, 0.899999976, 0.349999994, 0.833333313, 0.0833333358, 0.583333313, 0.850000024, 0.25, 0.600000024, 1, 0.333333343, 0.75, 0.150000006, 0.5, 0.899999976, 0.333333343, 0.666666687, 0, 0.449999988, 0.800000012, 0.200000003, 0.833333313, 1, 0.583333313, 0.699999988, 0.100000001, 0.5, 0.75, 0.25, 0.5, 0.0500000007, 0.400000006, 0.75, 0.166666672, 0.583333313, 1, 0.300000012, 0.699999988, 0.100000001, 0.333333343, 0.666666687, 0.25, 0.600000024, 0.949999988, 0.349999994, 0.666666687, 0.166666672, 0.5, 0.850000024, 0.300000012, 0.649999976, 0.0833333358, 0.583333313, 1, 0.200000003, 0.550000012, 0.899999976, 0.333333343, 0.5, 0.166666672, 0.449999988, 0.850000024, 0.25, 0.5, 0.916666687, 0.333333343, 0.75, 0.150000006, 0.5, 1, 0.416666657, 0.75, 0.100000001, 0.449999988, 0.800000012, 0.25, 0.583333313, 1, 0.349999994, 0.699999988, 0.150000006, 0.583333313, 0.916666687, 0.333333343, 0.5, 0.0500000007, 0.75, 0.75, 0.5, 0.550000012, 1, 0.300000012, 0.5, 0.100000001, 0.5, 0.800000012, 0, 0.600000024, 1, 0.349999994, 0.5, 0.150000006, 0.75, 0.899999976, 0.25, 0.649999976, 0.25, 0.449999988, 1, 0.200000003, 1, 0.949999988, 0, 0.699999988, 0, 0.5, 0.5, 0.25, 0, 0.0500000007, 0.25, 0.75, 0, 0.550000012, 1, 0.300000012, 1, 0.100000001, 0.75, 0.800000012, 0.25, 0.600000024, 1, 0.349999994, 0.25, 0.150000006, 0, 0.850000024, 0, 0.649999976, 0, 0.400000006, 1, 0.200000003, 1, 0.899999976, 0.25, 0.699999988, 0, 0.449999988, 0.5, 0.25, 0.75, 0.949999988, 0.5, 0.75, 0, 0.5, 1, 0.300000012, 1, 0.0500000007, 0.75, 0.800000012, 0.5, 0.550000012, 1, 0.349999994]
    static let uniFeaturesOther: [Float] = [0.449999988, 0.550000012, 0.400000006, 0.666666687, 0.833333313, 0.666666687, 0.550000012, 0.400000006, 0.449999988, 0.833333313, 0.666666687, 0.75, 0.850000024, 0.5, 0.600000024, 0.5, 0.916666687, 1, 0.449999988, 0.600000024, 0.150000006, 0.666666687, 0.75, 0.583333313, 0.5, 0.800000012, 0.449999988, 0.75, 0.583333313, 0.666666687, 0.600000024, 0.449999988, 0.550000012, 1, 0.833333313, 1, 0.25, 0.600000024, 0.899999976, 0.5, 0.666666687, 0.416666657, 0.5, 0.699999988, 0.449999988, 0.75, 0.75, 0.75, 0.649999976, 0.400000006, 0.550000012, 1, 0.666666687, 1, 0, 0.449999988, 0.899999976, 0.333333343, 0.583333313, 1, 0.449999988, 0.899999976, 0, 0.916666687, 1, 0.5, 0.899999976, 1, 0.0500000007, 1, 0, 0.666666687, 0.850000024, 0.25, 0.699999988, 0, 0.416666657, 1, 0.150000006, 0.550000012, 0.850000024, 0.5, 0.75, 0, 0.449999988, 0.699999988, 0.400000006, 0.583333313, 1, 0.5, 0.550000012, 0.400000006, 0.449999988, 0.916666687, 0.5, 0.666666687, 0.300000012, 0.5, 0.899999976, 0, 1, 1, 0.400000006, 0.699999988, 0.25, 0.5, 0.75, 0.416666657, 0.5, 0.200000003, 0.449999988, 1, 0.416666657, 0.666666687, 0.949999988, 0.150000006, 0.899999976, 0.166666672, 0.333333343, 1, 0.200000003, 0.550000012, 1, 0.166666672, 0.166666672, 0, 0.699999988, 0.949999988, 0, 0.833333313, 0, 0, 0.699999988, 0.0500000007, 0.5, 1, 0.416666657, 0.583333313, 0, 0.349999994, 0.800000012, 0.333333343, 0.583333313, 0, 0.349999994, 0.699999988, 0, 0.5, 1, 0.333333343, 0.600000024, 0.100000001, 0.449999988, 0.75, 0.0833333358, 0.416666657, 1, 0.100000001, 0.949999988, 0, 0.583333313, 1, 0.150000006, 0.649999976, 0.0500000007, 0, 0.5, 0, 0.5, 0.75, 0.300000012, 0.5, 0, 0.166666672, 0.800000012, 0.100000001, 0.5, 0.75, 0.166666672, 0.333333343, 0.400000006, 0.400000006, 0.649999976, 0.166666672, 0.416666657, 0, 0.400000006, 0.600000024, 0.300000012, 0.5, 0.75, 0.333333343, 0.699999988, 0.100000001, 0.349999994, 0.833333313, 0, 0.166666672, 0.0500000007, 0.400000006, 0.550000012, 0, 0.25, 0.5, 0.200000003, 0.550000012, 0.0500000007, 0.166666672, 0.416666657, 0.0833333358, 0.550000012, 0.75, 0.400000006, 0.416666657, 0.0833333358, 0.25, 0.600000024, 0.400000006, 0.449999988, 0.25, 0.333333343, 0.416666657, 0.100000001, 0.449999988, 0.899999976, 0.166666672, 0.333333343, 0, 0.449999988, 0.600000024, 0.449999988, 0.333333343, 0.5, 0.25, 0.550000012, 0.349999994, 0.5, 0.416666657, 0.333333343, 0.416666657, 0, 0.449999988, 0.649999976, 0.25, 0.416666657, 0.5, 0.449999988, 0.550000012, 0.25, 0.416666657, 0.5, 0.333333343, 1, 0.5, 1, 0.899999976, 1, 0.5, 1, 0.5, 1, 0.400000006, 1, 0.699999988, 1, 0.600000024, 1, 0.649999976, 1, 0.300000012, 0, 0.899999976, 0.75, 1, 0, 0.550000012, 1, 0.400000006, 1, 0.649999976, 0.75, 0.600000024, 0.25, 0.449999988, 1, 0.449999988, 0.5, 0.150000006, 0.5, 0.800000012, 1, 0.400000006, 0.5, 0.200000003, 1, 0, 0.25, 0.800000012, 0.25, 0.5, 1, 0.400000006, 0.25, 0.25, 0.5, 0.75, 0, 0.5, 0, 0.300000012, 0, 0, 0, 0.899999976, 0, 0.649999976, 0, 0.5, 0, 0.200000003, 0, 0.699999988, 0, 0.600000024, 0, 0.449999988, 0, 0.349999994, 0, 0.200000003, 0, 0.449999988, 0, 0.400000006, 0.75, 0.400000006]
    static let multiChannelCounts: [Int] = [2, 2, 1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1, 2, 2, 1, 2, 1, 1, 1, 2, 1, 1, 2, 2, 1, 1, 1, 3, 3, 2, 3, 3, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 3, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 2, 2, 2, 2, 1, 2, 1, 2, 1, 1, 1, 1, 3, 1, 2, 2, 2, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 3]
    static let multiChannelIndices: [Int] = [1, 0, 0, 2, 1, 1, 2, 2, 1, 0, 0, 2, 1, 1, 1, 1, 2, 1, 2, 2, 1, 2, 0, 2, 2, 1, 1, 1, 2, 2, 1, 1, 1, 2, 1, 2, 2, 1, 0, 1, 2, 2, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 1, 2, 2, 1, 0, 0, 2, 0, 1, 0, 2, 2, 1, 2, 1, 2, 1, 2, 1, 0, 2, 2, 0, 2, 2, 2, 0, 2, 2, 0, 1, 0, 2, 2, 0, 1, 0, 2, 0, 1, 0, 2, 0, 1, 0, 0, 2, 1, 2, 0, 1, 0, 1, 2, 1, 1, 0, 0, 2, 2, 1, 1, 0, 1, 1, 0, 1, 2, 0, 1, 0, 1, 0, 0, 2, 1]
    static let multiDilations: [Int] = [1]
    static let multiPerDilation: [Int] = [2]
    static let multiBiases: [Float] = [-2.10323215, -6.55110407, 5.25432777, -2.30984592, -4.57515383, -0.363769144, -6.85227871, 9.26799011, -2.56591105, -10.7641087, 4.21887255, -4.64941072, -8.4491539, 0.762633026, -5.10961246, 2.27506351, -2.24180746, -5.47966051, 5, -2.17960668, 2.48543286, -0.913868904, -4, 5.46117783, -0.775081158, -11.3318834, 5, -5, 11.2065601, 0.193415359, -5.2219286, 4.09833241, -1.10955739, -5.00659132, 4.09707642, -5.7215395, 12.0265923, -4, -4.66819954, 1.67946303, -1.22479033, 3.13767815, 1.30664968, -5.22775888, 4.88260269, -2.07565069, -10, 4.92236042, -3.82730579, 10.0313244, -0.479735911, -6.22081518, 2.68510342, -3, 8.63412285, 0.297101855, -5.16187954, 5.44785118, -4.2860446, -9.97576141, -0.906622648, -3.1074698, 6.93541145, 1.55876255, -9.24275684, 4.22203779, -3.18524575, -19.9335327, 1.54962945, -2.44189405, 5.20619774, 0.476707697, -2.92565775, 0.364306808, -0.963748991, 7.47159004, 2, -5.90023327, 3.47584224, -0.122548342, -8.08870411, 2, -0.297955602, 2.48126197, -0.0133279562, -6.73615456, 2.47601509, -1.6107775, -7, 0, -3.1034162, 4.50040674, -0.965432644, -12.3509111, 4, -1, 7.47890663, 2, -6.21952677, 3.40786171, -0.76068157, -4.35479641, 2, -2.73395491, 9.39958763, 3.17979693, -5.93406391, 4.09409761, -0.824065745, 4.16179562, 2.02659082, -5, 7.50062132, -0.527488947, -3.46630955, 2.95127535, -2.02168822, 7.08286619, 1.06607461, -1.03247857, 3.73168993, -1, -8.04230404, 1.3711015, -1.56842113, 1.8904196, 1.38905478, -12.1516962, 5.3984127, -2.0339601, 9.31036377, 0, -2.15387821, 1.93632197, 0.669750452, -4.48875237, 4.59440994, -1.38954115, 5.01206398, 0.731337368, -1.1518259, 3.03846169, 0.3184627, 7.13408899, 3.61316514, -3.32244444, 6.14939451, 1.94331598, -7.36168385, 5.06058455, -0.0568693541, 7.7716589, 1.29352391, -2.95971632, 4.30382776, 0.379014045, -7, 2.22165871, -2.82755446, 3.06182075, 0.819137931, -3.31447983, 4.34968662, 1.33012283, 5.85894728, 2.78528571, -8.62828636, 10.1232777]
    static let multiFeaturesOther: [Float] = [0.8125, 0.875, 0, 0.625, 1, 0.75, 1, 0.125, 0.6875, 1, 0.375, 1, 1, 0.4375, 1, 0.5, 1, 1, 0, 0.625, 0.125, 0.75, 0.875, 0, 0.625, 1, 0, 0.75, 0, 0.6875, 1, 0, 0.875, 1, 0.125, 1, 0, 0.8125, 1, 0.25, 0.875, 0, 0.375, 1, 0, 0.75, 1, 0.25, 0.8125, 0, 0.625, 1, 0.0625, 0.875, 0, 0.5, 1, 0.0625, 0.875, 1, 0.75, 0.9375, 0.25, 0.625, 0.9375, 0.25, 0.75, 1, 0.25, 0.875, 0, 0.375, 1, 0.5, 0.5, 0, 0.375, 1, 0, 0.5, 1, 0.375, 0.875, 0, 0.5625, 1, 0, 0.875, 1, 0.625, 0.875, 0, 0.5625, 1, 0.25, 0.625, 0, 0.1875, 1, 0.125, 0.6875, 1, 0.25, 0.75, 0, 0.25, 1, 0, 0.6875, 0, 0.5, 1, 0, 0.5625, 1, 0, 0.8125, 0, 0, 0.75, 0, 0.6875, 1, 0, 0.9375, 0, 0.375, 1, 0.125, 0.75, 0, 0.625, 1, 0, 0.25, 1, 0.125, 0.5625, 0, 0, 0.6875, 0.0625, 0.5, 0, 0.0625, 0.75, 0, 0, 0.9375, 0.125, 0.375, 0, 0.25, 1, 0, 0.125, 1, 0.125, 1, 0, 0.25, 0.6875, 0, 0.125, 0, 0.1875, 1, 0]
    // wide: n=12, d=30, alpha_=0.001, best_score_=-4.576757766155448
    static let wideAlpha = 0.001
    static let wideScore = -4.576757766155448
    static let wideIntercept = 0.5320355306785122
    static let wideCoef: [Double] = [-0.029761275589717584, -0.040221425898068514, -0.2562877205057708, -0.6807244762179652, -0.3072951081123219, -0.5048692742066341, -0.09563295891272186, -0.17894798995531208, 0.5252138700907534, 0.5697560283881399, 0.34912312605736495, 0.4716789151171616, 0.24563172238308914, 0.304888359888582, 0.2241596531576559, 0.13681715034108943, -0.5741883776123896, -0.21560567431501654, -0.2276673339928197, -0.5273132156848203, -0.21030685271622618, -0.4200835233878276, -0.5289387465744404, 0.10685420990264083, 0.3247961644343633, 0.06821305341893386, 0.5891367036825252, 0.4400812716181638, 0.22753047685457659, 0.05612074966701121]
    static let wideScores: [Double] = [-4.576757766155448, -4.57709322661823, -4.578700807180982, -4.586669669816592, -4.619064697046542, -4.708214701544045, -4.979875474632585, -5.33768583134066, -5.510535531312704, -5.559304799830733]
    // tall: n=40, d=5, alpha_=0.1, best_score_=-0.05910687949279286
    static let tallAlpha = 0.1
    static let tallScore = -0.05910687949279286
    static let tallIntercept = -0.00447395821960761
    static let tallCoef: [Double] = [1.016991048280939, 0.9027983892192016, 0.538848296871981, 0.040733332135285565, -0.4046446711529631]
    static let tallScores: [Double] = [-0.05918086845672186, -0.05917673249073061, -0.05915896180913096, -0.05910687949279286, -0.05948770468159541, -0.07193606181566725, -0.21844979223780564, -0.7235304219013077, -1.1584927196561916, -1.307851242664901]
    static let classifierAlpha = 2.154434690031882
    static let classifierLabels: [Int] = [2, 2, 1, 0, 1, 0, 1, 0, 1, 1, 2, 2, 1, 2, 0, 2, 0, 2, 2, 0, 0, 1, 0, 0, 1, 1, 2, 0, 2, 1]
    static let classifierPredictions: [Int] = [2, 0, 1, 1, 1, 2, 2, 1, 1, 0]
}

@Suite struct ExpertMiniRocketTests {
    /// The univariate golden inputs: one training series (so the reference's random example choice is fixed).
    static func uniSeries() -> (train: Tensor, other: Tensor) {
        let t = (0..<20).map(Double.init)
        let a = t.map { Float(sin(0.7 * $0) + 0.1 * $0) }
        let b = t.map { Float(cos(0.3 * $0) * 2 - 0.05 * $0 * $0 / 10) }
        return (Tensor(a, shape: [1, 1, 20]), Tensor(b, shape: [1, 1, 20]))
    }

    @Test func dilationsMatchTheReference() {
        let cases: [(Int, [Int], [Int])] = [
            (9, ExpertGolden.dilations9, ExpertGolden.perDilation9), (10, ExpertGolden.dilations10, ExpertGolden.perDilation10),
            (24, ExpertGolden.dilations24, ExpertGolden.perDilation24), (25, ExpertGolden.dilations25, ExpertGolden.perDilation25),
            (41, ExpertGolden.dilations41, ExpertGolden.perDilation41), (100, ExpertGolden.dilations100, ExpertGolden.perDilation100),
            (150, ExpertGolden.dilations150, ExpertGolden.perDilation150),
            (251, ExpertGolden.dilations251, ExpertGolden.perDilation251),
            (2000, ExpertGolden.dilations2000, ExpertGolden.perDilation2000),
        ]
        for (length, dilations, perDilation) in cases {
            let fitted = MiniRocket.fitDilations(length: length, features: 10_000, maxDilationsPerKernel: 32)
            #expect(fitted.dilations == dilations, "length \(length)")
            #expect(fitted.featuresPerDilation == perDilation, "length \(length)")
        }
    }

    @Test func univariateBiasesAndFeaturesMatchTheReference() throws {
        let (train, other) = Self.uniSeries()
        let mr = try MiniRocket(fitting: train, features: 336, seed: 0)
        #expect(mr.dilations == ExpertGolden.uniDilations)
        #expect(mr.featuresPerDilation == ExpertGolden.uniPerDilation)
        #expect(mr.featureCount == 336)
        // Same float32 convolution and float64 interpolation as the reference: equal up to rounding of the
        // last bit.
        for (a, b) in zip(mr.biases, ExpertGolden.uniBiases) {
            #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "bias \(a) vs \(b)")
        }
        // PPV values are multiples of 1/20 or 1/(20 − 2·padding): exact equality.
        #expect(try mr.transform(train).scalars == ExpertGolden.uniFeaturesTrain)
        #expect(try mr.transform(other).scalars == ExpertGolden.uniFeaturesOther)
        // Hand check of one feature: kernel 0 (weights 2 at taps 0, 1, 2) at dilation 1 over the whole output,
        // with a zero-padded "same" convolution.
        let x = train.scalars
        var out = [Float](repeating: 0, count: 20)
        for t in 0..<20 {
            var s: Float = 0
            for tap in 0..<9 where t + tap - 4 >= 0 && t + tap - 4 < 20 {
                s += (tap < 3 ? 2 : -1) * x[t + tap - 4]
            }
            out[t] = s
        }
        let ppv = Float(out.filter { $0 > mr.biases[0] }.count) / 20
        #expect(try mr.transform(train).scalars[0] == ppv)
    }

    @Test func multivariateBiasesAndFeaturesMatchTheReference() throws {
        let t = (0..<16).map(Double.init)
        var values: [Float] = t.map { Float(sin(0.5 * $0)) }
        values += t.map { Float(cos(0.9 * $0) + 0.2 * $0) }
        values += t.map { Float($0.truncatingRemainder(dividingBy: 5) - 2) }
        let train = Tensor(values, shape: [1, 3, 16])
        // The reference's random channel combinations, and biases fitted through them on the one example.
        var g = SeededGenerator(seed: 1)
        let biases = MiniRocket.fitBiases(train, dilations: ExpertGolden.multiDilations,
                                          featuresPerDilation: ExpertGolden.multiPerDilation,
                                          channelCounts: ExpertGolden.multiChannelCounts,
                                          channelIndices: ExpertGolden.multiChannelIndices, generator: &g)
        for (a, b) in zip(biases, ExpertGolden.multiBiases) {
            #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "bias \(a) vs \(b)")
        }
        let mr = try MiniRocket(channels: 3, length: 16, dilations: ExpertGolden.multiDilations,
                                featuresPerDilation: ExpertGolden.multiPerDilation,
                                channelCounts: ExpertGolden.multiChannelCounts,
                                channelIndices: ExpertGolden.multiChannelIndices, biases: ExpertGolden.multiBiases)
        // The other input: channels reversed in time, halved.
        var other = [Float](repeating: 0, count: 48)
        for c in 0..<3 { for s in 0..<16 { other[c * 16 + s] = values[c * 16 + 15 - s] * 0.5 } }
        #expect(try mr.transform(Tensor(other, shape: [1, 3, 16])).scalars == ExpertGolden.multiFeaturesOther)
        // Our own fit draws 1…3 channels per combination.
        let own = try MiniRocket(fitting: train, features: 168, seed: 7)
        #expect(own.channelCounts.allSatisfy { (1...3).contains($0) })
        #expect(Set(own.channelCounts).count > 1)
    }

    @Test func shortAndVariableLengthSeries() throws {
        let x = Tensor((0..<(4 * 2 * 6)).map { Float($0 % 7) }, shape: [4, 2, 6])
        let mr = try MiniRocket(fitting: x, features: 840, seed: 2)
        #expect(mr.length == 9 && mr.dilations == [1])
        #expect(try mr.transform(x).shape == [4, 840])
        // A longer series than fitted transforms too (same dilations).
        let longer = Tensor((0..<(3 * 2 * 40)).map { Float(sin(Double($0))) }, shape: [3, 2, 40])
        let f = try mr.transform(longer)
        #expect(f.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(throws: TransferError.self) { try mr.transform(Tensor.zeros([2, 3, 10])) }
    }
}

@Suite struct ExpertRidgeTests {
    /// The reference's closed-form problem (X rounded to float32, as the features are).
    static func problem(_ n: Int, _ d: Int) -> (x: [Float], y: [Double]) {
        var x = [Float](repeating: 0, count: n * d)
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var dot = 0.0
            for j in 0..<d {
                let v = Float(sin(0.37 * Double(i + 1) * Double(j + 2)) + 0.05 * Double((i * 7 + j * 3) % 11))
                x[i * d + j] = v
                dot += Double(v) * cos(0.5 * Double(j))
            }
            y[i] = dot + 0.3 * sin(1.3 * Double(i))
        }
        return (x, y)
    }

    @Test func ridgeCVMatchesScikitLearnWideAndTall() throws {
        for (n, d, alpha, scores, coef, intercept) in [
            (12, 30, ExpertGolden.wideAlpha, ExpertGolden.wideScores, ExpertGolden.wideCoef, ExpertGolden.wideIntercept),
            (40, 5, ExpertGolden.tallAlpha, ExpertGolden.tallScores, ExpertGolden.tallCoef, ExpertGolden.tallIntercept),
        ] {
            let (x, y) = Self.problem(n, d)
            let r = try RidgeCV(features: x, samples: n, targets: y)
            #expect(r.alpha == alpha, "n=\(n) d=\(d)")
            for (a, b) in zip(r.scores, scores) { #expect(abs(a - b) <= 1e-7 * abs(b), "score \(a) vs \(b)") }
            for (a, b) in zip(r.coefficients, coef) { #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "coef \(a) vs \(b)") }
            #expect(abs(r.intercepts[0] - intercept) <= 1e-6 * max(1, abs(intercept)))
        }
    }

    @Test func ridgeClassifierCVMatchesScikitLearn() throws {
        let (x, _) = Self.problem(30, 60)
        let clf = try RidgeClassifierCV(features: x, labels: ExpertGolden.classifierLabels, classCount: 3)
        #expect(clf.ridge.alpha == ExpertGolden.classifierAlpha)
        let rows = stride(from: 0, to: 30, by: 3).map { $0 }
        let probe = rows.flatMap { i in (0..<60).map { Float(Double(x[i * 60 + $0]) * 0.9) } }
        #expect(Metrics.argmax(clf.decision(features: probe, samples: rows.count)) == ExpertGolden.classifierPredictions)
    }

    @Test func ridgeRejectsBadInput() {
        #expect(throws: TransferError.self) { try RidgeCV(features: [1, 2], samples: 1, targets: [1]) }
        #expect(throws: TransferError.self) { try RidgeCV(features: [1, .nan, 2, 3], samples: 2, targets: [1, 2]) }
        #expect(throws: TransferError.self) { try RidgeCV(features: [1, 2, 3, 4], samples: 2, targets: [1, 2], alphas: [0]) }
    }
}

@Suite struct ExpertModelTests {
    @Test func miniRocketClassifiesUnivariateAndMultivariateWaves() throws {
        for channels in [1, 3] {
            let train = try waveDataset(count: 40, channels: channels, length: 32)
            let test = try waveDataset(count: 20, channels: channels, length: 32, seed: 12)
            let spec = try TaskSpec.inferred(name: "waves", training: train)
            #expect(Experts.kind(for: spec) == "minirocket")
            let model = try Experts.fit(train: train, validation: test.subset([]), task: spec, seed: 1)
            let accuracy = spec.metrics(predictions: try model.predict(test), data: test)[.accuracy] ?? 0
            #expect(accuracy >= 0.95, "channels \(channels): accuracy \(accuracy)")
            #expect(model.selected.first?.0 == "alpha")
        }
    }

    @Test func miniRocketRegressesAFrequency() throws {
        // Target: the frequency of a noisy sine (a shape property the PPV features see).
        func data(_ n: Int, seed: UInt64) throws -> LabeledDataset {
            var g = SeededGenerator(seed: seed)
            var x: [Float] = [], y: [Float] = []
            for _ in 0..<n {
                let f = 1 + 3 * g.nextUnitFloat()
                y.append(f)
                for t in 0..<64 { x.append(sinf(2 * .pi * f * Float(t) / 64) + 0.05 * Float(g.nextNormal())) }
            }
            return try LabeledDataset(name: "freq", inputs: .series(Tensor(x, shape: [n, 1, 64])),
                                      targets: .regression(Tensor(y, shape: [n])))
        }
        let train = try data(60, seed: 3), test = try data(30, seed: 4)
        let spec = try TaskSpec.inferred(name: "freq", training: train)
        let model = try Experts.fit(train: train, validation: test.subset([]), task: spec, seed: 0)
        let mse = spec.metrics(predictions: try model.predict(test), data: test)[.mse] ?? .infinity
        // The targets' variance is 0.75 (uniform over [1, 4]); the model must explain most of it.
        #expect(mse < 0.1, "test MSE \(mse)")
    }

    @Test func kmerLogisticFindsAMotif() throws {
        // Class 1 sequences contain the motif 3 4 5; class 0 sequences are random over 0…7 without it.
        func data(_ n: Int, seed: UInt64) throws -> LabeledDataset {
            var g = SeededGenerator(seed: seed)
            var seqs: [[Int]] = [], labels: [Int] = []
            for i in 0..<n {
                let cls = i % 2
                var s: [Int] = []
                repeat {
                    s = (0..<(12 + Int(g.next() % 8))).map { _ in Int(g.next() % 8) }
                } while cls == 0 && zip(s, zip(s.dropFirst(), s.dropFirst(2))).contains { $0 == 3 && $1.0 == 4 && $1.1 == 5 }
                if cls == 1 {
                    let at = Int(g.next() % UInt64(s.count - 3))
                    s.replaceSubrange(at..<(at + 3), with: [3, 4, 5])
                }
                seqs.append(s)
                labels.append(cls)
            }
            return try LabeledDataset(name: "motif", inputs: .tokens(seqs), targets: .classes(labels, names: ["no", "yes"]))
        }
        let train = try data(200, seed: 1), validation = try data(60, seed: 2), test = try data(100, seed: 3)
        let spec = try TaskSpec.inferred(name: "motif", training: train, vocabularySize: 8)
        let model = try Experts.fit(train: train, validation: validation, task: spec, seed: 0)
        let accuracy = spec.metrics(predictions: try model.predict(test), data: test)[.accuracy] ?? 0
        #expect(accuracy >= 0.9, "accuracy \(accuracy), selected \(model.selected)")
        // Single-token counts barely differ between the classes: validation must pick pairs or triples.
        #expect((model.selected.first { $0.0 == "k" }?.1 ?? 0) >= 2)
    }

    @Test func residualConvNetLearnsALocalOperator() throws {
        // 1-D: the target is a 3-point moving average of the input (periodic), which a conv net represents exactly.
        func data(_ n: Int, seed: UInt64) throws -> LabeledDataset {
            var g = SeededGenerator(seed: seed)
            var x: [Float] = [], y: [Float] = []
            for _ in 0..<n {
                let row = (0..<32).map { _ in Float(g.nextNormal()) }
                x += row
                y += (0..<32).map { t in (row[(t + 31) % 32] + row[t] + row[(t + 1) % 32]) / 3 + 1 }
            }
            return try LabeledDataset(name: "smooth", inputs: .series(Tensor(x, shape: [n, 1, 32])),
                                      targets: .fields(Tensor(y, shape: [n, 1, 32])))
        }
        let train = try data(96, seed: 1), validation = try data(32, seed: 2), test = try data(32, seed: 3)
        let spec = try TaskSpec.inferred(name: "smooth", training: train)
        #expect(Experts.kind(for: spec) == "resnet")
        let model = try Experts.fit(train: train, validation: validation, task: spec, seed: 0, epochs: 8)
        let err = spec.metrics(predictions: try model.predict(test), data: test)[.relativeL2] ?? .infinity
        // Predicting the mean field (1 everywhere) scores ≈ 0.58; zeros score 1.
        #expect(err < 0.2, "relative L2 \(err), selected \(model.selected)")
    }
}

@Suite struct ExpertMethodTests {
    /// `mona fit --method expert` on a series task: the learner replaces the model, the run has its test record,
    /// predictions and report, and the expert's validation metric is recorded.
    @Test func expertMethodRunsThroughTheFitLifecycle() throws {
        let dir = TemporaryDirectory()
        var config = FitConfig(task: try wavesTask(in: dir.url), body: "tiny-bert", method: "expert", seed: 1)
        config.training.validationFraction = 0.25
        let result = try FitPipeline(config: config, runDirectory: dir.url.appendingPathComponent("run"),
                                     assets: AssetRegistry(root: repositoryAssets)).fit()
        #expect((result.testMetrics[.accuracy] ?? 0) >= 0.9, "\(result.testMetrics)")
        #expect(result.parameterCount > 9_000)
        let records = try MetricsLog.readOrdered(result.runDirectory.appendingPathComponent("metrics.jsonl"))
        #expect(records.contains { r in r.contains { $0.0 == "val_accuracy" } })
        #expect(records.contains { r in r.contains { $0.0 == "split" && $0.1.stringValue == "test" } })
        #expect(FileManager.default.fileExists(atPath: result.runDirectory.appendingPathComponent("report.md").path))
        // The family-specific methods refuse other families with one message naming the method.
        for name in ["kmer-logistic", "resnet"] {
            var wrong = config
            wrong.method = MethodConfig(name: name)
            #expect(throws: TransferError.self) {
                try FitPipeline(config: wrong, runDirectory: dir.url.appendingPathComponent(name),
                                assets: AssetRegistry(root: repositoryAssets)).fit()
            }
        }
    }
}
